/** Whether an error is a cancellation (an aborted signal or a timeout), not a failure. */
export function isAbort(e: unknown): boolean {
  return (e instanceof DOMException && (e.name === "AbortError" || e.name === "TimeoutError")) ||
    (e instanceof Error && e.name === "AbortError");
}
