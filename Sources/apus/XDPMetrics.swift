import ApusTransportXDP

/// The AF_XDP queues' counters in Prometheus's text format, one series per queue
/// (label `queue`), rendered from the engines' latest statistics at each scrape.
/// Every name is listed in README ("Metrics").
enum XDPMetrics {
    static func render(_ queues: [EngineStatistics]) -> String {
        guard !queues.isEmpty else { return "" }
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: (EngineStatistics) -> [(String, Int)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for queue in queues {
                for (extra, number) in value(queue) {
                    text += "\(name){queue=\"\(queue.queue)\"\(extra.isEmpty ? "" : ",\(extra)")} \(number)\n"
                }
            }
        }
        func one(_ number: Int) -> [(String, Int)] { [("", number)] }
        family("apus_xdp_rx_frames_total", "counter", "Frames received from the RX ring.") { one($0.net.framesReceived) }
        family("apus_xdp_tx_frames_total", "counter", "Frames put on the TX ring.") { one($0.net.framesSent) }
        family("apus_xdp_dropped_frames_total", "counter", "Received frames dropped by Apus's stack, by reason.") {
            [("reason=\"malformed\"", $0.net.droppedMalformed), ("reason=\"unknown_ethertype\"", $0.net.droppedUnknownEtherType),
             ("reason=\"vlan\"", $0.net.droppedVLAN), ("reason=\"not_for_us\"", $0.net.droppedNotForUs),
             ("reason=\"bad_checksum\"", $0.net.droppedBadChecksum), ("reason=\"fragment\"", $0.net.droppedFragments),
             ("reason=\"unknown_protocol\"", $0.net.droppedUnknownProtocol), ("reason=\"bad_source\"", $0.net.droppedBadSource)]
        }
        family("apus_xdp_tx_blocked_total", "counter", "Times a frame waited for a free TX slot or UMEM frame.") { one($0.transmitBlocked) }
        family("apus_xdp_kernel_dropped_total", "counter", "The kernel's drops and ring events for the queue's socket (XDP_STATISTICS).") {
            guard let kernel = $0.kernel else { return [] }
            return [("reason=\"rx_dropped\"", Int(kernel.rxDropped)), ("reason=\"rx_ring_full\"", Int(kernel.rxRingFull)),
                    ("reason=\"fill_ring_empty\"", Int(kernel.fillRingEmpty)), ("reason=\"rx_invalid_descriptor\"", Int(kernel.rxInvalidDescriptors)),
                    ("reason=\"tx_invalid_descriptor\"", Int(kernel.txInvalidDescriptors)), ("reason=\"tx_ring_empty\"", Int(kernel.txRingEmpty))]
        }
        family("apus_xdp_umem_frames", "gauge", "UMEM frames by where they are.") {
            let f = $0.frames
            return [("place=\"free\"", Int(f.free)), ("place=\"fill\"", Int(f.fill)), ("place=\"rx\"", Int(f.rx)), ("place=\"tx\"", Int(f.tx)),
                    ("place=\"completion\"", Int(f.completion)), ("place=\"application\"", Int(f.application))]
        }
        family("apus_tcp_connections_open", "gauge", "TCP connections open on the queue.") { one($0.connections) }
        family("apus_tcp_connections_accepted_total", "counter", "TCP connections accepted.") { one($0.accepted) }
        family("apus_tcp_connections_closed_total", "counter", "TCP connections closed, by how.") {
            [("how=\"normally\"", $0.closed - $0.closedAbnormally), ("how=\"abnormally\"", $0.closedAbnormally)]
        }
        family("apus_tcp_segments_received_total", "counter", "TCP segments received.") { one($0.net.tcpSegmentsReceived) }
        family("apus_tcp_segments_sent_total", "counter", "TCP segments sent.") { one($0.net.tcpSegmentsSent) }
        family("apus_tcp_retransmissions_total", "counter", "TCP segments sent again.") { one($0.net.tcpRetransmissions) }
        family("apus_tcp_resets_sent_total", "counter", "TCP RSTs sent.") { one($0.net.tcpResetsSent) }
        family("apus_rpc_messages_received_total", "counter", "Thrift messages received on the queue.") { one($0.messagesReceived) }
        family("apus_rpc_messages_sent_total", "counter", "Thrift messages sent on the queue.") { one($0.messagesSent) }
        return text
    }
}
