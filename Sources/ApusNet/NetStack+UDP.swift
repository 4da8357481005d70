import ApusWire

extension NetStack {
    /// Binds `port` on every owned address.
    public mutating func bindUDP(port: UInt16) throws(NetError) -> UDPHandle {
        guard port != 0 else { throw NetError(.invalidArgument, "udp bind") }
        guard udpEndpoints[port] == nil else { throw NetError(.addressInUse, "udp bind") }
        udpEndpoints[port] = UDPEndpoint()
        return UDPHandle(port: port)
    }

    public mutating func unbindUDP(_ endpoint: UDPHandle) {
        udpEndpoints[endpoint.port] = nil
    }

    /// The oldest queued datagram on `endpoint`: a copy of its payload and where it came from.
    public mutating func receiveDatagram(on endpoint: UDPHandle) throws(NetError) -> (payload: [UInt8], source: UDPSource)? {
        guard udpEndpoints[endpoint.port] != nil else { throw NetError(.invalidHandle, "udp receive") }
        guard let datagram = udpEndpoints[endpoint.port]!.pop() else { return nil }
        return (datagram.payload, datagram.source)
    }

    /// Sends one datagram from `endpoint` (RFC 768), checksum computed in software. When the
    /// next hop is being resolved, a copy waits on it (bounded; beyond that it is dropped and
    /// counted). Throws `wouldBlock` when no TX frame is free: the caller still has the data.
    public mutating func send<T: FrameTransmitter & ~Copyable>(datagram payload: UnsafeRawBufferPointer, from endpoint: UDPHandle,
                                                   to destination: IPv4Address, port: UInt16,
                                                   source: IPv4Address? = nil, at now: NetInstant,
                                                   transmitter: inout T) throws(NetError) {
        guard udpEndpoints[endpoint.port] != nil else { throw NetError(.invalidHandle, "udp send") }
        let source = source ?? interface.addresses[0]
        guard interface.owns(source) else { throw NetError(.invalidArgument, "udp send") }
        let udp = UDPRepr(sourcePort: endpoint.port, destinationPort: port, payloadLength: payload.count)
        let ip = IPv4Repr(source: source, destination: destination, protocol: .udp, payloadLength: udp.bufferLength)
        guard ip.bufferLength <= interface.mtu else { throw NetError(.messageTooLarge, "udp send") }
        func write(_ bytes: UnsafeMutableRawBufferPointer) {
            UnsafeMutableRawBufferPointer(rebasing: bytes[udp.headerLength...]).copyMemory(from: payload)
            try? udp.emit(into: bytes, checksum: .compute(source: source, destination: destination))
        }
        switch resolve(destination, at: now) {
        case .resolved(let mac):
            guard FrameWriter.transmit(&transmitter, link: link(to: mac), ip: ip, write) else {
                throw NetError(.wouldBlock, "udp send")
            }
            statistics.framesSent += 1
        case .pending:
            var packet = [UInt8](repeating: 0, count: ip.bufferLength)
            packet.withUnsafeMutableBytes { bytes in
                write(UnsafeMutableRawBufferPointer(rebasing: bytes[ip.headerLength...]))
                try? ip.emit(into: bytes)
            }
            if !arpCache.enqueue(packet, for: nextHop(for: destination)) { statistics.arpQueueDrops += 1 }
        case .noRoute:
            throw NetError(.noRoute, "udp send")
        }
    }

    /// RFC 768 input: checksums are verified in software (zero means none was sent; a sum of
    /// the pseudo-header only comes from a local sender whose offload never ran, and passes).
    mutating func receiveUDP<D: NetDelivery>(_ packet: IPv4Packet, at now: NetInstant, delivery: inout D) {
        let datagram: UDPDatagram
        do {
            datagram = try UDPDatagram(packet.payload)
        } catch {
            statistics.droppedMalformed += 1
            return
        }
        let (source, destination) = (packet.source, packet.destination)
        do {
            try datagram.verifyChecksum(source: source, destination: destination)
        } catch {
            guard configuration.acceptPartialChecksums,
                  datagram.hasPartialChecksum(source: source, destination: destination) else {
                statistics.droppedBadChecksum += 1
                return
            }
            statistics.partialChecksumsAccepted += 1
        }
        let port = datagram.destinationPort
        guard udpEndpoints[port] != nil else {
            statistics.udpNoEndpoint += 1
            return
        }
        let handle = UDPHandle(port: port)
        let from = UDPSource(address: source, port: datagram.sourcePort, destination: destination)
        statistics.udpDelivered += 1
        if delivery.deliver(datagram: datagram.payload, from: from, on: handle) { return }
        guard udpEndpoints[port]!.queuedCount < configuration.maximumQueuedDatagrams else {
            statistics.udpDelivered -= 1
            statistics.udpQueueDrops += 1
            return
        }
        let wasEmpty = udpEndpoints[port]!.queuedCount == 0
        udpEndpoints[port]!.queue.append(UDPEndpoint.Datagram(payload: Array(datagram.payload), source: from))
        if wasEmpty { post(.datagram(handle)) }
    }
}
