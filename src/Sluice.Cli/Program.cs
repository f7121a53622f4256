using Sluice.Cli;

return await SluiceCommandLine.InvokeAsync(args).ConfigureAwait(false);
