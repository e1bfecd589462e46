// Errors the user caused (bad flag, bad file, bad config): the CLI prints the message as one
// line and exits 2. Anything else escaping to the top level is our bug and is reported as such.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
