import Logging

/// Logs the first failure of an outage as a warning and its end as info;
/// the retries in between go to debug, so a long outage is two lines, not one per retry.
struct OutageLog {
    private(set) var isDown = false

    mutating func failed(_ error: any Error, _ message: @autoclosure () -> String, logger: Logger) {
        if isDown {
            logger.debug("\(message()): still failing: \(error)")
        } else {
            isDown = true
            logger.warning("\(message()): \(error); retrying with backoff")
        }
    }

    /// Ends the outage, if there was one; says whether there was.
    @discardableResult
    mutating func recovered() -> Bool {
        defer { isDown = false }
        return isDown
    }
}
