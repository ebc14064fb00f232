/**
 * User-facing errors. A `GensembleError` is a problem with the user's input or environment
 * (a missing file, a truncated download, a wrong shape); the CLI prints its one-line message
 * and exits non-zero without a stack trace. Anything else is a bug and keeps its stack.
 */

/** An error caused by input or environment, with a message that says what to do. */
export class GensembleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GensembleError";
  }
}

/** Build an error that names the file and the problem: "path: problem". */
export function fileError(path: string, problem: string): GensembleError {
  return new GensembleError(`${path}: ${problem}`);
}

/**
 * Run a CLI entry point: user errors print one line (`error: ...`) and exit 1; other errors
 * keep their stack so bugs can be reported.
 */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof GensembleError) {
      console.error(`error: ${err.message}`);
      Deno.exit(1);
    }
    throw err;
  }
}
