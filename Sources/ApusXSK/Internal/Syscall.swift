#if canImport(Glibc)
import Glibc
#endif

/// Runs a syscall wrapper, retrying EINTR, turning -1 into an `XSKError` naming the call.
@inline(__always)
func syscall<T: FixedWidthInteger>(_ operation: @autoclosure () -> String, _ body: () -> T) throws(XSKError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw XSKError(operation(), errno: code)
    }
}
