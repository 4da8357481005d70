import ApusNet

/// The responder behind `apus net serve`: TCP echo on one port, UDP echo on
/// another, over a `NetStack` (ARP and ICMP echo are the stack's own). Bytes
/// are echoed in order, spliced from the receive buffer straight into the send
/// buffer; a connection whose send buffer is full waits for `.writable`; after
/// the peer's FIN and the last echoed byte it closes, so both sides end in a
/// normal close.
struct NetEcho {
    var tcpPort: UInt16?
    var udpEndpoint: UDPHandle?
    private var closing: Set<TCPHandle> = []
    var counters = Counters()

    struct Counters {
        var accepted = 0
        var closedNormally = 0
        var closedByReset = 0
        var closedByTimeout = 0
        var closedOtherwise = 0
        var bytesEchoed = 0
        var datagramsEchoed = 0
        var open: Int { accepted - closedNormally - closedByReset - closedByTimeout - closedOtherwise }

        var summary: String {
            "accepted=\(accepted) closed_normal=\(closedNormally) closed_reset=\(closedByReset) closed_timeout=\(closedByTimeout)"
                + " closed_other=\(closedOtherwise) open=\(open) tcp_bytes_echoed=\(bytesEchoed) udp_datagrams_echoed=\(datagramsEchoed)"
        }
    }

    init(tcpPort: UInt16?, udpEndpoint: UDPHandle?) {
        self.tcpPort = tcpPort
        self.udpEndpoint = udpEndpoint
    }

    mutating func handle<Device: FrameDevice & ~Copyable>(_ event: NetEvent, stack: inout NetStack, device: inout Device, at now: NetInstant) {
        switch event {
        case .accepted(let connection, _):
            counters.accepted += 1
            pump(connection, stack: &stack, at: now)
        case .readable(let connection), .writable(let connection):
            pump(connection, stack: &stack, at: now)
        case .connected:
            break
        case .closed(let connection, let reason):
            closing.remove(connection)
            switch reason {
            case .normal: counters.closedNormally += 1
            case .reset: counters.closedByReset += 1
            case .timedOut: counters.closedByTimeout += 1
            case .refused, .aborted: counters.closedOtherwise += 1
            }
        case .datagram(let endpoint):
            while let (payload, source) = try? stack.receiveDatagram(on: endpoint) {
                do {
                    try payload.withUnsafeBytes { bytes in
                        try stack.send(datagram: bytes, from: endpoint, to: source.address, port: source.port,
                                       source: source.destination, at: now, transmitter: &device)
                    }
                    counters.datagramsEchoed += 1
                } catch {
                    // No TX frame free: UDP may drop, and the sender retries if it cares.
                }
            }
        }
    }

    /// Moves as much as fits from the receive buffer to the send buffer.
    private mutating func pump(_ connection: TCPHandle, stack: inout NetStack, at now: NetInstant) {
        while true {
            let available = stack.bytesAvailable(on: connection)
            if available == 0 {
                if stack.isAtEndOfStream(connection), closing.insert(connection).inserted {
                    try? stack.close(connection, at: now)
                }
                return
            }
            let space = stack.writableSpace(on: connection)
            if space == 0 {
                stack.notifyWhenWritable(connection)  // `.writable` resumes it
                return
            }
            let moved = (try? stack.splice(from: connection, to: connection, maximumLength: min(available, space), at: now)) ?? 0
            counters.bytesEchoed += moved
            // The space was checked first, so nothing moving means a connection that went away under us.
            guard moved > 0 else {
                try? stack.abort(connection, at: now)
                return
            }
        }
    }
}
