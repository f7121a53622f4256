using System.Diagnostics;
using System.Globalization;
using Sluice.Cli.Common;
using Sluice.Cli.Run;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// <c>sluice run --via batch-api</c>, the provider's Batch API as the run's backend, step by step:
/// <list type="number">
/// <item>The parts journalled by an earlier run are taken up as they stand; the lines neither finished nor in one of
/// them are split into new parts (one endpoint and model each, under the provider's limits) and journalled.</item>
/// <item>Each part is submitted: journalled "submitting" first; a part found "submitting" without a batch id (a kill
/// between the two journal writes) is looked up by its metadata before anything is sent again; then the input file
/// is uploaded, the batch created with metadata <c>{sluice_run, part}</c>, and its id journalled. Under
/// <c>--max-enqueued-tokens</c> a model's next part waits until its parts in progress leave room. Under
/// <c>--max-spend</c> a part first reserves its worst case at batch prices (<see cref="BatchSpendGate"/>); the first
/// part refused stops submission, and the run ends once the parts in flight are collected.</item>
/// <item>The batches are polled, the wait doubling from <c>--poll-interval</c> while none ends.</item>
/// <item>An ended batch's output and error files are read: every answer and every permanent failure is journalled as a
/// live run journals it; the lines it left unfinished (expired, cancelled, 5xx, or in no file) go into a new part, in
/// the same transaction that marks the part collected, until they have been in <c>--max-attempts</c> parts.</item>
/// <item>The results and errors files are written from the journal, exactly as after a live run.</item>
/// </list>
/// Ctrl-C stops polling at once (the batches go on at the provider); the same command later collects them.
/// </summary>
internal static class BatchApiRun
{
    private const string Name = "sluice run";

    public static async Task<int> ExecuteAsync(
        RunSettings settings,
        BatchApiOptions options,
        RunJournal journal,
        HashSet<string> finished,
        RequestFile.Validation validation,
        PriceTable prices,
        BatchSpendGate? spend,
        TextWriter output,
        TextWriter error,
        bool handleSignals,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        using var signals = handleSignals ? StopSignals.Listen() : StopSignals.Ignore();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signals.Stopping, signals.Aborting);
        using var parts = BatchPartJournal.Open(settings.JournalPath);
        var http = new BatchApiHttp(settings.BaseUrl, settings.Provider, settings.ApiKey, time, settings.MaxAttempts, settings.Timeout);
        using IBatchApiClient client = settings.Provider == ProviderKind.Anthropic ? new AnthropicBatchClient(http, prices) : new OpenAIBatchClient(http, settings.Provider, prices);
        var limits = client.Limits(options.MaxEnqueuedTokens);
        var tally = new BatchApiTally { Total = validation.Requests, AlreadyDone = finished.Count };
        using var worstCase = new BatchWorstCase(settings.Provider, settings.BaseUrl, prices);
        var run = new Loop(settings, options, journal, parts, client, limits, finished, validation, tally, spend, worstCase, output, time);

        string? stopped = null;
        try
        {
            await run.RunAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            stopped = "interrupted; the batches submitted go on at the provider";
        }
        catch (BatchApiException exception)
        {
            stopped = "the provider refused: " + TerminalText.Escape(exception.Message);
        }

        var (resultLines, errorLines) = await journal.WriteOutputsAsync(settings.ResultsPath, settings.ErrorsPath, CancellationToken.None).ConfigureAwait(false);
        int notDone = (int)Math.Max(0, validation.Requests - resultLines);
        if (stopped is null && spend?.StoppedAt is not null)
        {
            stopped = spend.StopReason(notDone);
        }

        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {resultLines - errorLines:N0} succeeded, {errorLines:N0} failed, {notDone:N0} not done, via the Batch API ({run.Created} batch{(run.Created == 1 ? "" : "es")} created this run, {tally.Resubmitted:N0} line{(tally.Resubmitted == 1 ? "" : "s")} resubmitted); {tally.Costs()}{(spend?.StoppedAt is null ? "" : "; stopped by --max-spend")}. Results: {settings.ResultsPath}");
        await output.WriteLineAsync(settings.Json ? RunProgress.JsonMessage(time, "summary", summary) : summary).ConfigureAwait(false);
        if (notDone > 0)
        {
            string message = $"stopped early ({stopped ?? "unknown reason"}); {notDone:N0} requests not done. Run the same command again to collect and resume; no batch is submitted twice.";
            await error.WriteLineAsync(settings.Json ? RunProgress.JsonMessage(time, "stopped", message) : $"{Name}: {message}").ConfigureAwait(false);
            return ExitCodes.StoppedEarly;
        }

        return errorLines > 0 ? ExitCodes.SomeFailed : ExitCodes.Success;
    }

    /// <summary>The run's state: the parts not yet collected, and the next part number.</summary>
    private sealed class Loop(
        RunSettings settings,
        BatchApiOptions options,
        RunJournal journal,
        BatchPartJournal partJournal,
        IBatchApiClient client,
        BatchLimits limits,
        HashSet<string> finished,
        RequestFile.Validation validation,
        BatchApiTally tally,
        BatchSpendGate? spend,
        BatchWorstCase worstCase,
        TextWriter output,
        TimeProvider time)
    {
        private readonly SortedDictionary<int, BatchPart> _open = [];
        private readonly HashSet<string> _claimed = new(StringComparer.Ordinal);
        private int _nextNumber = 1;
        private string? _lastProgress;

        /// <summary>Batches created by this process.</summary>
        public int Created { get; private set; }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            long started = time.GetTimestamp();
            await PlanAsync(cancellationToken).ConfigureAwait(false);
            var wait = options.PollInterval;
            while (_open.Values.Any(p => p.Status == BatchPartStatus.Submitted) || (spend?.StoppedAt is null && _open.Count > 0))
            {
                await SubmitReadyAsync(cancellationToken).ConfigureAwait(false);
                bool ended = await PollAsync(cancellationToken).ConfigureAwait(false);
                await ShowAsync(time.GetElapsedTime(started)).ConfigureAwait(false);
                if (!_open.Values.Any(p => p.Status == BatchPartStatus.Submitted) && (spend?.StoppedAt is not null || _open.Count == 0))
                {
                    break;
                }

                wait = options.NextPoll(wait, ended);
                if (!ended)
                {
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        // Step 1: the journalled parts, and new parts for the lines in none.
        private async Task PlanAsync(CancellationToken cancellationToken)
        {
            var inParts = new HashSet<string>(finished, StringComparer.Ordinal);
            foreach (var part in partJournal.ReadParts())
            {
                _nextNumber = Math.Max(_nextNumber, part.Number + 1);
                if (part.BatchId is { } batchId)
                {
                    _claimed.Add(batchId);
                }

                if (part.Status == BatchPartStatus.Collected)
                {
                    tally.PartsDone++;
                    continue;
                }

                _open[part.Number] = part;
                foreach (var line in part.Lines)
                {
                    inParts.Add(line.CustomId);
                }
            }

            if (spend is not null)
            {
                // Batches an earlier run submitted are being paid for: they hold their worst case like the parts this run submits.
                foreach (var part in _open.Values.Where(p => p.Status == BatchPartStatus.Submitted))
                {
                    var requests = await RequestsAsync(part, cancellationToken).ConfigureAwait(false);
                    spend.TryReserve(part.Number, worstCase.Of(requests));
                }
            }

            var splitter = new BatchPartSplitter(limits, _nextNumber, attempt: 1);
            var planned = new List<BatchPart>();
            await foreach (var request in RequestFile.ReadAsync(settings.InputPath, validation, inParts, cancellationToken).ConfigureAwait(false))
            {
                if (splitter.Add(BatchInputLine.Of(request)) is { } closed)
                {
                    planned.Add(closed);
                }
            }

            planned.AddRange(splitter.Finish());
            _nextNumber = splitter.NextNumber;
            if (planned.Count > 0)
            {
                partJournal.Add(planned);
                foreach (var part in planned)
                {
                    _open[part.Number] = part;
                }
            }
        }

        // Step 2: submit every part not yet submitted that the enqueued-token budget has room for.
        private async Task SubmitReadyAsync(CancellationToken cancellationToken)
        {
            foreach (var part in _open.Values.Where(p => p.Status is BatchPartStatus.Planned or BatchPartStatus.Submitting).ToList())
            {
                if (limits.MaxEnqueuedTokens is { } budget)
                {
                    long enqueued = _open.Values.Where(p => p.Status == BatchPartStatus.Submitted && p.Model == part.Model).Sum(p => p.Tokens);
                    if (enqueued > 0 && enqueued + part.Tokens > budget)
                    {
                        continue;
                    }
                }

                if (part.Lines.All(l => finished.Contains(l.CustomId)))
                {
                    // Every line was finished another way (a live run on the same journal): nothing to send.
                    partJournal.Add([], collected: part.Number);
                    _open.Remove(part.Number);
                    tally.PartsDone++;
                    continue;
                }

                if (spend is not null)
                {
                    // The part's worst case at batch prices is held before anything is sent; a part refused stops the
                    // submissions (this one and every later one), and the parts in flight are still collected.
                    var requests = await RequestsAsync(part, cancellationToken).ConfigureAwait(false);
                    if (!spend.TryReserve(part.Number, worstCase.Of(requests)))
                    {
                        return;
                    }
                }

                _open[part.Number] = await SubmitAsync(part, cancellationToken).ConfigureAwait(false);
            }
        }

        private async Task<BatchPart> SubmitAsync(BatchPart part, CancellationToken cancellationToken)
        {
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["sluice_run"] = partJournal.RunId,
                ["part"] = part.Number.ToString(CultureInfo.InvariantCulture),
            };
            if (part.Status == BatchPartStatus.Submitting && await client.FindAsync(part, metadata, part.SubmittingAt, _claimed, cancellationToken).ConfigureAwait(false) is { } found)
            {
                // Created before a kill, its id never journalled: this is the part's batch, not a reason to send it again.
                partJournal.Update(part.Number, BatchPartStatus.Submitted, batchId: found.Id);
                _claimed.Add(found.Id);
                tally.PartsSubmitted++;
                return part with { Status = BatchPartStatus.Submitted, BatchId = found.Id };
            }

            var submittingAt = time.GetUtcNow();
            partJournal.Update(part.Number, BatchPartStatus.Submitting, submittingAt: submittingAt);
            var requests = await RequestsAsync(part, cancellationToken).ConfigureAwait(false);
            string? fileId = null;
            var batch = await client.SubmitAsync(part, requests, metadata, uploaded =>
            {
                fileId = uploaded;
                partJournal.Update(part.Number, BatchPartStatus.Submitting, fileId: uploaded);
            }, cancellationToken).ConfigureAwait(false);
            partJournal.Update(part.Number, BatchPartStatus.Submitted, batchId: batch.Id);
            _claimed.Add(batch.Id);
            Created++;
            tally.PartsSubmitted++;
            return part with { Status = BatchPartStatus.Submitted, FileId = fileId, BatchId = batch.Id, SubmittingAt = part.SubmittingAt ?? submittingAt };
        }

        // The part's requests, read again from the input (the journal keeps ids, not bodies).
        private async Task<List<RequestLine>> RequestsAsync(BatchPart part, CancellationToken cancellationToken)
        {
            var ids = part.Lines.Select(l => l.CustomId).ToHashSet(StringComparer.Ordinal);
            var requests = new List<RequestLine>(part.Lines.Count);
            await foreach (var request in RequestFile.ReadAsync(settings.InputPath, validation, finished, cancellationToken).ConfigureAwait(false))
            {
                if (ids.Contains(request.CustomId))
                {
                    requests.Add(request);
                }
            }

            return requests;
        }

        // Step 3: poll each submitted batch; collect those that ended. True when one did.
        private async Task<bool> PollAsync(CancellationToken cancellationToken)
        {
            bool ended = false;
            int inBatches = 0;
            int inProgress = 0;
            foreach (var part in _open.Values.Where(p => p.Status == BatchPartStatus.Submitted).ToList())
            {
                var status = await client.GetAsync(part.BatchId!, cancellationToken).ConfigureAwait(false);
                if (status.Ended)
                {
                    await CollectAsync(part, status, cancellationToken).ConfigureAwait(false);
                    ended = true;
                }
                else
                {
                    inProgress++;
                    inBatches += status.Completed + status.Failed;
                }
            }

            tally.PartsInProgress = inProgress;
            tally.InBatchesDone = inBatches;
            return ended;
        }

        // Step 4: journal what the batch did; its unfinished lines become a new part.
        private async Task CollectAsync(BatchPart part, BatchStatus status, CancellationToken cancellationToken)
        {
            var lines = part.Lines.ToDictionary(l => l.CustomId, l => l.LineNumber, StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var commits = new List<Task>();
            decimal cost = 0;
            await foreach (var result in client.ResultsAsync(part, status, cancellationToken).ConfigureAwait(false))
            {
                if (!lines.TryGetValue(result.CustomId, out int lineNumber) || finished.Contains(result.CustomId) || !seen.Add(result.CustomId)
                    || result.Outcome == BatchLineOutcome.Unfinished)
                {
                    continue;
                }

                finished.Add(result.CustomId);
                tally.Add(result);
                cost += result.Cost ?? 0;
                commits.Add(journal.RecordAsync(result.CustomId, lineNumber, result.Outcome == BatchLineOutcome.Succeeded, result.OutputLine));
            }

            var unfinished = part.Lines.Where(l => !finished.Contains(l.CustomId)).ToList();
            bool failedWhole = status.Status == "failed" && status.Error is { } batchError && !BatchResultLine.IsTransient(batchError.Code) && batchError.Code != "token_limit_exceeded";
            if (failedWhole || (unfinished.Count > 0 && part.Attempt >= settings.MaxAttempts))
            {
                // A batch refused as a whole (its file invalid) fails its lines for good, as do lines left unfinished by
                // --max-attempts batches in a row.
                var (code, message) = failedWhole
                    ? status.Error!.Value
                    : ("batch_expired", $"left unfinished by {part.Attempt} batches in a row (the last {status.Id}, {status.Status})");
                foreach (var line in unfinished)
                {
                    finished.Add(line.CustomId);
                    tally.Failed++;
                    commits.Add(journal.RecordAsync(line.CustomId, line.LineNumber, succeeded: false, BatchResultLine.FailedWithout(line.CustomId, code, message)));
                }

                unfinished.Clear();
            }

            // Outcomes are durable before the part is marked collected: a kill in between collects it again, and the
            // journal keeps the first outcome of each id.
            await Task.WhenAll(commits).ConfigureAwait(false);
            spend?.Settle(part.Number, cost);
            var next = new List<BatchPart>();
            if (unfinished.Count > 0)
            {
                next.Add(new BatchPart(_nextNumber++, part.Url, part.Model, unfinished, part.Bytes, part.Tokens, part.Attempt + 1));
                tally.Resubmitted += unfinished.Count;
            }

            partJournal.Add(next, collected: part.Number);
            _open.Remove(part.Number);
            foreach (var added in next)
            {
                _open[added.Number] = added;
            }

            tally.PartsDone++;
            Debug.Assert(_open.Values.All(p => p.Status != BatchPartStatus.Collected), "collected parts leave the open set");
        }

        private async Task ShowAsync(TimeSpan elapsed)
        {
            string progress = tally.Progress(elapsed);
            if (!string.Equals(progress, _lastProgress, StringComparison.Ordinal))
            {
                _lastProgress = progress;
                // Where a live run's progress goes: the output, as a JSON line with --log-format json.
                await output.WriteLineAsync(settings.Json ? RunProgress.JsonMessage(time, "progress", progress) : $"{Name}: {progress}").ConfigureAwait(false);
            }
        }
    }
}
