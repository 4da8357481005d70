import ApusNet
import ApusTesting
import ApusTransportXDP
import ApusWire
import ApusXSK
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `apus net`: Apus's own network stack (ApusNet) on an AF_XDP queue.
struct Net: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apus's userspace TCP/IP stack on AF_XDP: an echo responder for testing against real peers.",
        subcommands: [Serve.self]
    )

    /// `apus net serve`: ARP, ICMP echo, TCP echo and UDP echo for an owned address,
    /// answered by ApusNet over ApusXSK, with optional impairment in both directions.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer ARP, ping, TCP echo and UDP echo for an owned address with ApusNet over AF_XDP.",
            discussion: """
                Needs root and Apus's XDP program loaded on INTERFACE (README: "Loading the XDP program"). \
                The loop runs pinned to the first CPU this process may use. SIGINT/SIGTERM stop it and print \
                the stack's counters; --impair drops, reorders and duplicates frames in both directions \
                (e.g. loss=2%,reorder=5%,duplicate=1%,delay=1ms,seed=7).
                """)

        @Option(help: "Interface the XDP program is loaded on.")
        var interface: String
        @Option(name: [.customLong("queues"), .customLong("queue")], help: "RX queue to serve (one).")
        var queue: UInt32 = 0
        @Option(help: "IPv4 address Apus owns (claimed in the program's owned_ipv4 map).")
        var address: String
        @Option(help: "Prefix length of the on-link subnet.")
        var prefixLength = 24
        @Option(name: .customLong("tcp-echo"), help: "TCP port to echo on.")
        var tcpEcho: UInt16?
        @Option(name: .customLong("udp-echo"), help: "UDP port to echo on.")
        var udpEcho: UInt16?
        @Option(help: "Impair frames in both directions: loss=P%,reorder=P%,duplicate=P%,delay=D,seed=N.")
        var impair: String?
        @Option(help: "Stop after this many seconds (0: run until SIGINT/SIGTERM).")
        var duration: Double = 0
        @Option(help: "UMEM frames.")
        var frames: UInt32 = 8192
        @Option(help: "TIME-WAIT duration in seconds (RFC 9293 says 2 MSL; 60 by default).")
        var timeWait: Double = 60
        @Option(name: .customLong("zero-copy"), help: "auto, on or off.")
        var zeroCopy: XDP.ZeroCopyChoice = .auto
        @Flag(help: "Busy-poll the driver instead of sleeping in poll().")
        var busyPoll = false

        func run() throws {
            func fail(_ message: String) -> ExitCode {
                Console.error("apus net serve: \(message)")
                return ExitCode(1)
            }
            guard let owned = IPv4Address(address) else {
                throw fail("'\(address)' is not an IPv4 address (write it as a dotted quad, e.g. 10.10.0.10)")
            }
            guard tcpEcho != nil || udpEcho != nil else { throw fail("nothing to serve: give --tcp-echo PORT and/or --udp-echo PORT") }
            var impairment: (LinkImpairment, seed: UInt64)?
            if let impair {
                do throws(ImpairmentSyntaxError) { impairment = try LinkImpairment.parse(impair) } catch { throw fail("--impair: \(error)") }
            }
            let maps: XDPProgramMaps
            do { maps = try XDPProgramMaps(interface: interface) } catch { throw fail("\(error)") }
            guard let mac = XDPPlacement.macAddress(of: interface) else {
                throw fail("cannot read the MAC address of \(interface) (/sys/class/net/\(interface)/address)")
            }
            var socketConfiguration = XSKSocket.Configuration()
            socketConfiguration.frameCount = frames
            socketConfiguration.mode = zeroCopy.mode
            socketConfiguration.busyPoll = busyPoll ? XSKSocket.BusyPoll() : nil
            func open() -> XSKSocket? {
                do throws(XSKError) {
                    let socket = try XSKSocket(interface: interface, queue: queue, configuration: socketConfiguration)
                    try maps.register(socketFD: socket.fd, queue: queue)
                    return socket
                } catch {
                    Console.error("apus net serve: \(error)")
                    return nil
                }
            }
            guard let socket = open() else { throw ExitCode(1) }
            defer { maps.unregister(queue: queue) }

            var configuration = NetStackConfiguration(
                interface: InterfaceConfiguration(macAddress: mac, addresses: [owned],
                                                  subnet: IPv4Subnet(address: owned, prefixLength: prefixLength)))
            configuration.tcp.timeWaitDuration = NetDuration(nanoseconds: Int64(timeWait * 1e9))
            configuration.receiveWindowBudget = NetStackConfiguration.receiveWindowBudget(
                rxRingEntries: socketConfiguration.ringSize, mtu: configuration.interface.mtu)
            var stack = NetStack(configuration: configuration)
            var udpEndpoint: UDPHandle?
            do throws(NetError) {
                if let tcpEcho { try stack.listen(on: tcpEcho, backlog: 1024) }
                if let udpEcho { udpEndpoint = try stack.bindUDP(port: udpEcho) }
            } catch { throw fail("\(error)") }
            var echo = NetEcho(tcpPort: tcpEcho, udpEndpoint: udpEndpoint)

            do { try maps.claim(ipv4: address) } catch { throw fail("\(error)") }
            defer { maps.release(ipv4: address) }
            let cpu = PinnedThread.allowedCPUs()[0]
            PinnedThread.pin(to: cpu)
            XDP.installStopSignals()
            let mode = socket.isZeroCopy ? "zero-copy" : "copy"
            Console.out("apus net serve: serving \(address) (\(mac)) on \(interface) queue \(queue), \(mode) mode, cpu \(cpu):"
                        + (tcpEcho.map { " tcp echo \($0)" } ?? "") + (udpEcho.map { " udp echo \($0)" } ?? "")
                        + (impair.map { ", impaired \($0)" } ?? ""))
            let device = XSKFrameDevice(socket: socket)
            let deadline = duration > 0 ? MonotonicClock.now() + NetDuration(nanoseconds: Int64(duration * 1e9)) : .distantFuture
            if let (impairment, seed) = impairment {
                var impaired = ImpairedDevice(device, receive: impairment, transmit: impairment, seed: seed)
                Self.loop(device: &impaired, stack: &stack, echo: &echo, until: deadline, interface: interface, queue: queue) {
                    $0.base.frameAccounting
                }
                let (inbound, outbound) = (impaired.inbound.counters, impaired.outbound.counters)
                Console.out("apus net serve: impaired rx: dropped=\(inbound.dropped) reordered=\(inbound.reordered) duplicated=\(inbound.duplicated)"
                            + " tx: dropped=\(outbound.dropped) reordered=\(outbound.reordered) duplicated=\(outbound.duplicated)")
                Self.finish(&impaired.base, stack: stack, echo: echo)
            } else {
                var device = device
                Self.loop(device: &device, stack: &stack, echo: &echo, until: deadline, interface: interface, queue: queue) {
                    $0.frameAccounting
                }
                Self.finish(&device, stack: stack, echo: echo)
            }
        }

        /// The run-to-completion loop: frames in, events, frames out, wait.
        static func loop<Device: FrameDevice & ~Copyable>(
            device: inout Device, stack: inout NetStack, echo: inout NetEcho, until deadline: NetInstant,
            interface: String, queue: UInt32, frames: (borrowing Device) -> FrameAccounting
        ) {
            var nextReport = NetInstant.zero
            while !XDP.stopRequested.load(ordering: .relaxed) {
                let now = MonotonicClock.now()
                if now >= deadline { break }
                let received = device.receive(at: now, maximum: 64) { frame in stack.receive(frame, at: now) }
                while let event = stack.nextEvent() { echo.handle(event, stack: &stack, device: &device, at: now) }
                stack.poll(at: now, transmitter: &device)
                device.flush(at: now)
                if now >= nextReport {
                    nextReport = now + .seconds(1)
                    let accounting = frames(device)
                    XSKStatusFile.write(interface: interface, queue: queue, fields: [
                        ("connections", "\(stack.connectionCount)"), ("frames_free", "\(accounting.free)"),
                        ("frames_in_fill", "\(accounting.fill)"), ("frames_in_app", "\(accounting.application)"),
                        ("tcp_retransmissions", "\(stack.statistics.tcpRetransmissions)"),
                    ] + echo.counters.summary.split(separator: " ").map { field in
                        let parts = field.split(separator: "=")
                        return (String(parts[0]), String(parts.last!))
                    })
                }
                if received == 0 {
                    let next = min(stack.nextDeadline, device.nextDeadline, deadline, nextReport)
                    if next > now { device.wait(until: next, now: MonotonicClock.now()) }
                }
            }
            XSKStatusFile.remove(interface: interface, queue: queue)
        }

        /// Lets sends drain, then prints the counters scripts parse.
        static func finish(_ device: inout XSKFrameDevice, stack: borrowing NetStack, echo: NetEcho) {
            for _ in 0..<100 where device.socket.tx.outstanding > 0 {
                device.flush(at: MonotonicClock.now())
                device.socket.reapCompletions(maximum: .max)
                usleep(1000)
            }
            device.socket.reapCompletions(maximum: .max)
            let s = stack.statistics
            Console.out("apus net serve: \(echo.counters.summary) icmp_echo_replies=\(s.icmpEchoReplies) arp_answered=\(s.arpRequestsAnswered)"
                        + " tcp_segments_in=\(s.tcpSegmentsReceived) tcp_segments_out=\(s.tcpSegmentsSent) tcp_retransmissions=\(s.tcpRetransmissions)"
                        + " tcp_fast_retransmits=\(s.tcpFastRetransmits) tcp_sack_retransmits=\(s.tcpSACKRetransmits) tcp_timeouts=\(s.tcpTimeouts) tcp_resets_sent=\(s.tcpResetsSent)"
                        + " tcp_ooo_queued=\(s.tcpOutOfOrderQueued) dropped_bad_checksum=\(s.droppedBadChecksum) dropped_malformed=\(s.droppedMalformed)"
                        + " tx_blocked=\(device.statistics.transmitBlocked) connections_left=\(stack.connectionCount) \(device.frameAccounting)"
                        // Frames the kernel dropped before ApusNet saw them (XDP_STATISTICS).
                        + (device.kernelStatistics.map { k in
                            " xsk_rx_dropped=\(k.rxDropped) xsk_rx_ring_full=\(k.rxRingFull) xsk_fill_ring_empty=\(k.fillRingEmpty)"
                                + " xsk_rx_invalid=\(k.rxInvalidDescriptors) xsk_tx_invalid=\(k.txInvalidDescriptors)"
                        } ?? ""))
        }
    }
}
