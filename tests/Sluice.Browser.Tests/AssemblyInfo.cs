// One browser at a time: each test runs chromium, a proxy, mocks and clients, and CI is a busy two-core box.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
