#if canImport(Glibc)
import Glibc
#endif
import CXDP

/// An OS thread pinned to one CPU: the home of one queue's poll loop
/// (DESIGN decision 5: one socket, one pinned thread per NIC queue,
/// run to completion). Swift's cooperative pool never runs this work.
public final class PinnedThread: @unchecked Sendable {
    private let thread: pthread_t
    public let cpu: Int?

    private final class Start {
        let cpu: Int?
        let name: String
        let body: @Sendable () -> Void
        init(cpu: Int?, name: String, body: @escaping @Sendable () -> Void) {
            self.cpu = cpu
            self.name = name
            self.body = body
        }
    }

    /// Starts `body` on a new thread pinned to `cpu` (nil: not pinned).
    /// `name` shows in `top -H` and perf (at most 15 bytes are kept).
    public init(name: String, cpu: Int?, _ body: @escaping @Sendable () -> Void) throws(XSKError) {
        let start = Unmanaged.passRetained(Start(cpu: cpu, name: name, body: body))
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            _ = cxdp_set_thread_name(String(start.name.utf8.prefix(15))!)
            if let cpu = start.cpu { _ = PinnedThread.pin(to: cpu) }
            start.body()
            return nil
        }, start.toOpaque())
        guard result == 0 else {
            start.release()
            throw XSKError("pthread_create for \(name)", errno: result)
        }
        self.thread = thread
        self.cpu = cpu
    }

    /// Waits for the thread to finish.
    public func join() {
        _ = pthread_join(thread, nil)
    }

    /// Room for 1024 CPUs, like glibc's cpu_set_t.
    static let maskBytes = 128

    /// Pins the calling thread to `cpu`; false when the CPU is not allowed.
    @discardableResult
    public static func pin(to cpu: Int) -> Bool {
        guard cpu >= 0, cpu < maskBytes * 8 else { return false }
        var mask = [UInt8](repeating: 0, count: maskBytes)
        mask[cpu / 8] = UInt8(1) << UInt8(cpu % 8)
        return cxdp_set_affinity(mask, UInt(maskBytes)) == 0
    }

    /// The CPUs this process may run on, ascending (`taskset -c 1` gives [1]).
    public static func allowedCPUs() -> [Int] {
        var mask = [UInt8](repeating: 0, count: maskBytes)
        let written = cxdp_get_affinity(&mask, UInt(maskBytes))
        guard written > 0 else { return [0] }
        var cpus: [Int] = []
        for (index, byte) in mask.prefix(Int(written)).enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << bit) != 0 { cpus.append(index * 8 + bit) }
        }
        return cpus.isEmpty ? [0] : cpus
    }
}
