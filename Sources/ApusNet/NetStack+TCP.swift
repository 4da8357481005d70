import ApusWire

extension NetStack {
    // MARK: Application interface

    /// Passive open (RFC 9293 §3.10.1) on `port` of every owned address. At most `backlog`
    /// connections wait in SYN-RECEIVED; further SYNs get SYN cookies (or are dropped when
    /// cookies are off). Completed connections are announced as `.accepted`.
    ///
    /// The backlog is capped at half the connection table, so half-open connections can never
    /// fill it: when they would, SYNs get cookies instead of being dropped.
    public mutating func listen(on port: UInt16, backlog: Int = 128) throws(NetError) {
        guard port != 0, backlog > 0 else { throw NetError(.invalidArgument, "tcp listen") }
        guard listeners[port] == nil else { throw NetError(.addressInUse, "tcp listen") }
        listeners[port] = TCPListener(port: port, backlog: min(backlog, max(1, configuration.maximumConnections / 2)))
    }

    /// Stops accepting on `port`; connections already accepted are unaffected.
    public mutating func stopListening(on port: UInt16) {
        listeners[port] = nil
    }

    /// Active open (RFC 9293 §3.10.1): the SYN goes out at the next `poll` (after ARP, if the
    /// next hop is unknown). `.connected` follows the SYN,ACK; `.closed(.refused)` an RST.
    public mutating func connect(to address: IPv4Address, port: UInt16, localAddress: IPv4Address? = nil,
                                 localPort: UInt16? = nil, at now: NetInstant) throws(NetError) -> TCPHandle {
        guard port != 0, !address.isUnspecified, !address.isBroadcast, !address.isMulticast else {
            throw NetError(.invalidArgument, "tcp connect")
        }
        let local = localAddress ?? interface.addresses[0]
        guard interface.owns(local) else { throw NetError(.invalidArgument, "tcp connect") }
        var tuple = TCPFourTuple(localAddress: local, localPort: localPort ?? 0, remoteAddress: address, remotePort: port)
        if let localPort {
            guard connectionIndex[tuple] == nil, localPort != 0 else { throw NetError(.addressInUse, "tcp connect") }
        } else {
            tuple.localPort = try ephemeralPort(for: tuple)
        }
        let index = try makeConnection(tuple, passive: false, at: now)
        connections[index]!.open()
        nextDeadline = min(nextDeadline, now)
        return handle(for: index)
    }

    /// Queues up to `bytes.count` bytes for sending; returns how many fit in the send buffer.
    /// A short count means the buffer is full: `.writable` follows when space frees.
    public mutating func write(_ bytes: UnsafeRawBufferPointer, to connection: TCPHandle,
                               at now: NetInstant) throws(NetError) -> Int {
        let index = try writableIndex(connection, "tcp write")
        let written = connections[index]!.write(bytes, memory: &bufferMemory)
        if written > 0 {
            markActive(index)
            nextDeadline = min(nextDeadline, now)
        }
        return written
    }

    /// Lends up to `maximumLength` bytes of contiguous send-buffer space to `body`, which
    /// encodes into it and returns how many bytes it wrote (zero-copy encoding). The space may
    /// be shorter than asked when the buffer wraps or is nearly full: call again for the rest.
    public mutating func write(to connection: TCPHandle, maximumLength: Int, at now: NetInstant,
                               _ body: (UnsafeMutableRawBufferPointer) -> Int) throws(NetError) -> Int {
        let index = try writableIndex(connection, "tcp write")
        let written = connections[index]!.writeInPlace(maximumLength: maximumLength, memory: &bufferMemory, body)
        if written > 0 {
            markActive(index)
            nextDeadline = min(nextDeadline, now)
        }
        return written
    }

    /// Copies received bytes into `buffer`; returns how many (0 when nothing is buffered,
    /// which after the peer's FIN means end of stream).
    public mutating func read(from connection: TCPHandle, into buffer: UnsafeMutableRawBufferPointer,
                              at now: NetInstant) throws(NetError) -> Int {
        let index = try liveIndex(connection, "tcp read")
        let count = connections[index]!.read(into: buffer, memory: &bufferMemory)
        afterApplicationCall(index, at: now)
        return count
    }

    /// Lends the contiguous received bytes to `body`, which returns how many it consumed.
    public mutating func read(from connection: TCPHandle, at now: NetInstant,
                              _ body: (UnsafeRawBufferPointer) -> Int) throws(NetError) -> Int {
        let index = try liveIndex(connection, "tcp read")
        let count = connections[index]!.readInPlace(memory: &bufferMemory, body)
        afterApplicationCall(index, at: now)
        return count
    }

    /// Moves up to `maximumLength` bytes that `source` received into what `destination` sends,
    /// straight from one ring to the other, with no copy through the caller's memory: an echo
    /// (`source == destination`) or a proxy. Returns how many moved: at most what `source`
    /// holds and what `destination` has room for (`.writable` follows when it frees).
    public mutating func splice(from source: TCPHandle, to destination: TCPHandle, maximumLength: Int = .max,
                                at now: NetInstant) throws(NetError) -> Int {
        let from = try liveIndex(source, "tcp splice")
        let to = try writableIndex(destination, "tcp splice")
        let moved: Int
        if from == to {
            moved = connections[from]!.spliceToSendBuffer(maximumLength: maximumLength, memory: &bufferMemory)
        } else {
            // Two slots at once: through the buffer's pointer, as the array allows one access at a time.
            var memory = bufferMemory
            moved = connections.withUnsafeMutableBufferPointer { slots in
                let moved = ByteRing.move(from: &slots[from]!.receiveBuffer, to: &slots[to]!.sendBuffer,
                                          maximumLength: maximumLength, memory: &memory)
                slots[from]!.didRead(memory: &memory)
                slots[to]!.didSpliceIn(moved, maximumLength: maximumLength)
                return moved
            }
            bufferMemory = memory
        }
        if moved > 0 {
            markActive(to)
            nextDeadline = min(nextDeadline, now)
        }
        afterApplicationCall(from, at: now)
        return moved
    }

    /// Bytes waiting to be read.
    public func bytesAvailable(on connection: TCPHandle) -> Int {
        guard let index = index(of: connection) else { return 0 }
        return connections[index]!.receiveBuffer.count
    }

    /// Asks for `.writable` once send-buffer space frees, without writing: for an
    /// application that checks `writableSpace` first and finds none.
    public mutating func notifyWhenWritable(_ connection: TCPHandle) {
        guard let index = index(of: connection) else { return }
        connections[index]!.writerWaiting = true
    }

    /// Free send-buffer space.
    public func writableSpace(on connection: TCPHandle) -> Int {
        guard let index = index(of: connection) else { return 0 }
        return connections[index]!.sendBuffer.freeSpace
    }

    /// Whether the peer's FIN arrived and every byte before it has been read.
    public func isAtEndOfStream(_ connection: TCPHandle) -> Bool {
        guard let index = index(of: connection) else { return true }
        return connections[index]!.finReceived && connections[index]!.receiveBuffer.isEmpty
    }

    /// Graceful close (RFC 9293 §3.10.4): a FIN follows the queued data. Reading stays
    /// possible until the peer's FIN; `.closed` follows when the exchange completes.
    public mutating func close(_ connection: TCPHandle, at now: NetInstant) throws(NetError) {
        let index = try liveIndex(connection, "tcp close")
        connections[index]!.close()
        afterApplicationCall(index, at: now)
    }

    /// Abort (RFC 9293 §3.10.5): sends an RST where the peer knows of the connection, drops
    /// all buffered data, and reports `.closed(.aborted)`.
    public mutating func abort(_ connection: TCPHandle, at now: NetInstant) throws(NetError) {
        let index = try liveIndex(connection, "tcp abort")
        let tuple = connections[index]!.tuple
        let linkAddress = connections[index]!.linkAddress
        if let reset = connections[index]!.abort() {
            queueReply(.tcp(reset, source: tuple.localAddress, destination: tuple.remoteAddress, via: linkAddress),
                       bounded: false, at: now)
        }
        afterApplicationCall(index, at: now)
    }

    /// How `destination` is reached: its next hop (itself when on-link, else the gateway),
    /// nil when it is off-link and there is no gateway.
    public func route(to destination: IPv4Address) -> (nextHop: IPv4Address?, onLink: Bool) {
        if let subnet = interface.subnet, !subnet.contains(destination) { return (interface.gateway, false) }
        return (destination, true)
    }

    /// The link-layer address of neighbour `address`, if this stack (or another queue's, through
    /// `SharedNeighbours`) resolved it and the entry is still valid.
    public func neighbour(of address: IPv4Address, at now: NetInstant) -> MACAddress? {
        arpCache.lookup(address, at: now) ?? configuration.sharedNeighbours?.lookup(address, at: now)
    }

    /// One line on where a connection's sending stands, for logs about connections that would
    /// not close: state, unacknowledged and unsent bytes, retransmissions, RTO, recovery.
    package func sendingSummary(of connection: TCPHandle) -> String? {
        guard let index = index(of: connection), let c = connections[index] else { return nil }
        return "\(c.state) unacked=\(c.flightSize) sendMax-una=\(c.sendMaximum - c.sendUnacknowledged)"
            + " unsent=\(c.sendBuffer.count - (c.sendNext - c.sendBufferStart)) finQueued=\(c.finQueued) retransmits=\(c.retransmitCount)"
            + " rto=\(c.rtt.rto) timer=\(c.retransmitDeadline.map { "\($0)" } ?? "none") recovery=\(c.inFastRecovery) sack=\(c.sackEnabled)"
            + " sacked=\(c.scoreboard.blocks.count) window=\(c.sendWindow) cwnd=\(c.congestionWindow)"
    }

    /// The connection's state, or nil when the handle is no longer valid.
    public func state(of connection: TCPHandle) -> TCPState? {
        index(of: connection).map { connections[$0]!.state }
    }

    /// The connection's endpoints.
    public func endpoints(of connection: TCPHandle) -> TCPFourTuple? {
        index(of: connection).map { connections[$0]!.tuple }
    }

    /// Connections in the table (every state but LISTEN).
    public var connectionCount: Int { liveConnections }

    // MARK: Table

    func handle(for index: Int) -> TCPHandle {
        TCPHandle(index: UInt32(index), generation: generations[index])
    }

    func index(of handle: TCPHandle) -> Int? {
        let index = Int(handle.index)
        guard index < connections.count, generations[index] == handle.generation, connections[index] != nil else {
            return nil
        }
        return index
    }

    private func liveIndex(_ handle: TCPHandle, _ operation: StaticString) throws(NetError) -> Int {
        guard let index = index(of: handle) else { throw NetError(.invalidHandle, operation) }
        return index
    }

    private mutating func writableIndex(_ handle: TCPHandle, _ operation: StaticString) throws(NetError) -> Int {
        let index = try liveIndex(handle, operation)
        // Fields read in place: a copy of the connection would retain all of its buffers.
        let (state, finQueued) = withConnection(index) { ($0.state, $0.finQueued) }
        switch state {
        case .synSent, .synReceived, .established, .closeWait:
            guard !finQueued else { throw NetError(.connectionClosed, operation) }
            return index
        default:
            // Past CLOSE (or a FIN from us): the send side is shut.
            throw NetError(.connectionClosed, operation)
        }
    }

    private mutating func afterApplicationCall(_ index: Int, at now: NetInstant) {
        guard let status = connections[index]?.status() else { return }
        if status.wantsToSend {
            markActive(index)
            nextDeadline = min(nextDeadline, now)
        }
        scheduleTimer(index, at: status.nextDeadline)
        nextDeadline = min(nextDeadline, status.nextDeadline)
        connectionChanged(index, status: status, at: now)
    }

    /// RFC 6528 §3: ISN = M + F(4-tuple, secret), M a 4 µs clock.
    private func initialSequenceNumber(for tuple: TCPFourTuple, at now: NetInstant) -> SequenceNumber {
        let addresses = UInt64(tuple.localAddress.rawValue) << 32 | UInt64(tuple.remoteAddress.rawValue)
        let ports = UInt64(tuple.localPort) << 16 | UInt64(tuple.remotePort)
        let offset = SipHash.hash(key: configuration.secret, addresses, ports)
        return SequenceNumber(UInt32(truncatingIfNeeded: now.nanoseconds / 4_000 &+ offset))
    }

    /// RFC 6056 §3.3.1-style: walk the range from a moving start until the 4-tuple is free.
    private mutating func ephemeralPort(for tuple: TCPFourTuple) throws(NetError) -> UInt16 {
        let range = configuration.ephemeralPorts
        var candidate = tuple
        for _ in 0..<range.count {
            let port = nextEphemeralPort
            nextEphemeralPort = port >= range.upperBound ? range.lowerBound : port + 1
            candidate.localPort = port
            if connectionIndex[candidate] == nil && listeners[port] == nil { return port }
        }
        throw NetError(.portExhausted, "tcp connect")
    }

    /// What one connection costs besides its buffers, charged to `maximumBufferMemory`: its
    /// control block and its share of the tables.
    static var connectionOverhead: Int { MemoryLayout<TCPConnection?>.stride + 128 }

    /// Buffer memory charged now (see `NetStackConfiguration.maximumBufferMemory`).
    public var bufferMemoryInUse: Int { bufferMemory.inUse }

    private mutating func makeConnection(_ tuple: TCPFourTuple, passive: Bool, at now: NetInstant,
                                         initialSequenceNumber: SequenceNumber? = nil) throws(NetError) -> Int {
        guard liveConnections < configuration.maximumConnections else {
            throw NetError(.connectionLimit, passive ? "tcp accept" : "tcp connect")
        }
        guard bufferMemory.take(Self.connectionOverhead) else {
            throw NetError(.memoryLimit, passive ? "tcp accept" : "tcp connect")
        }
        var connection = TCPConnection(
            tuple: tuple, configuration: configuration.tcp,
            initialSequenceNumber: initialSequenceNumber ?? self.initialSequenceNumber(for: tuple, at: now),
            passive: passive, mtu: interface.mtu, trace: configuration.tcpTrace)
        connection.windowShare = receiveWindowShare
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
            connections[index] = connection
            timerScheduled[index] = .distantFuture
        } else {
            index = connections.count
            connections.append(connection)
            generations.append(0)
            timerScheduled.append(.distantFuture)
            isActive.append(false)
            lastVisit.append(0)
        }
        markActive(index)
        connectionIndex[tuple] = index
        liveConnections += 1
        return index
    }

    /// Turns a connection's notifications into events, keeps the listener's backlog count,
    /// and frees the slot of a connection that reached CLOSED. `status` is the connection's,
    /// just read, so it is not computed again.
    mutating func connectionChanged(_ index: Int, status: TCPConnection.Status, at now: NetInstant) {
        guard status.hasNotifications || status.state == .closed || (status.listenerPort != nil && status.state != .synReceived)
        else { return }
        let handle = handle(for: index)
        let state = status.state
        let returnedToListen = status.returnedToListen
        if let port = status.listenerPort, state != .synReceived {
            if listeners[port] != nil { listeners[port]!.halfOpen -= 1 }
            connections[index]!.listenerPort = nil
        }
        let notifications = withConnection(index) { connection in
            defer { connection.notifications = [] }
            return connection.notifications
        }
        if notifications.contains(.established) && !returnedToListen {
            post(connections[index]!.isPassive ? .accepted(handle, localPort: connections[index]!.tuple.localPort) : .connected(handle))
        }
        if notifications.contains(.readable) && !returnedToListen { post(.readable(handle)) }
        if notifications.contains(.writable) { post(.writable(handle)) }
        if state == .closed {
            if !returnedToListen { post(.closed(handle, connections[index]!.closeReason ?? .normal)) }
            let tuple = connections[index]!.tuple
            connections[index]!.sendBuffer.releaseAll(memory: &bufferMemory)
            connections[index]!.receiveBuffer.releaseAll(memory: &bufferMemory)
            bufferMemory.give(Self.connectionOverhead)
            connections[index] = nil
            connectionIndex[tuple] = nil
            timerScheduled[index] = .distantFuture
            timers.cancel(index)
            generations[index] &+= 1
            freeSlots.append(index)
            liveConnections -= 1
        }
    }

    // MARK: Segment arrival

    /// RFC 9293 §3.10.7: find the connection (or listener) for the segment and process it;
    /// a segment for nothing gets an RST (§3.10.7.1).
    mutating func receiveTCP<D: NetDelivery>(_ packet: IPv4Packet, at now: NetInstant, delivery: inout D) {
        let segment: TCPSegment
        let repr: TCPRepr
        do {
            segment = try TCPSegment(packet.payload)
            repr = try TCPRepr(parsing: segment)
        } catch {
            statistics.droppedMalformed += 1
            return
        }
        let (source, destination) = (packet.source, packet.destination)
        // RFC 1122 §4.2.3.10: a SYN (and so any segment) from a broadcast or multicast address,
        // or sent to one, is discarded; so are segments claiming to come from our own or no
        // address (a "land" SYN) or from a link-layer group address: answering them would make
        // us a reflector.
        let subnetBroadcast = interface.subnet.flatMap { $0.prefixLength < 31 ? $0.broadcast : nil }  // RFC 3021: /31 has none
        if source.isBroadcast || source.isMulticast || source.isUnspecified || interface.owns(source) || source == subnetBroadcast
            || destination.isBroadcast || destination.isMulticast || destination == subnetBroadcast || receivingFrom.isMulticast {
            statistics.droppedBadSource += 1
            return
        }
        do {
            try segment.verifyChecksum(source: source, destination: destination)
        } catch {
            guard configuration.acceptPartialChecksums,
                  segment.hasPartialChecksum(source: source, destination: destination) else {
                statistics.droppedBadChecksum += 1
                return
            }
            statistics.partialChecksumsAccepted += 1
        }
        statistics.tcpSegmentsReceived += 1
        let tuple = TCPFourTuple(localAddress: destination, localPort: repr.destinationPort,
                                 remoteAddress: source, remotePort: repr.sourcePort)
        let incoming = TCPIncoming(repr: repr, payload: segment.payload)
        if let index = connectionIndex[tuple] {
            // Traffic from the peer confirms its ARP entry (the lock time); a few times a second is plenty.
            if now - withConnection(index, { $0.neighbourConfirmed }) >= .milliseconds(200) {
                connections[index]!.neighbourConfirmed = now
                arpCache.confirm(source, at: receivingFrom, now: now)
            }
            process(incoming, on: index, at: now, delivery: &delivery)
        } else if listeners[repr.destinationPort] != nil {
            receiveOnListener(incoming, tuple: tuple, at: now, delivery: &delivery)
        } else {
            resetClosed(repr, tuple: tuple, at: now)
        }
    }

    private mutating func process<D: NetDelivery>(_ incoming: TCPIncoming, on index: Int, at now: NetInstant,
                                                  delivery: inout D) {
        let handle = handle(for: index)
        let tuple = withConnection(index) { $0.tuple }
        if configuration.receiveWindowBudget != nil {
            let share = receiveWindowShare
            let newReceiver = withConnection(index) { connection in
                connection.windowShare = share
                guard !incoming.payload.isEmpty && !connection.receivedThisPeriod else { return false }
                connection.receivedThisPeriod = true
                return true
            }
            if newReceiver { receiversThisPeriod += 1 }
        }
        let reply = connections[index]!.process(incoming, at: now, statistics: &statistics, memory: &bufferMemory) { bytes in
            delivery.deliver(bytes, on: handle)
        }
        if let reply { queueReply(.tcp(reply, source: tuple.localAddress, destination: tuple.remoteAddress, via: receivingFrom), at: now) }
        afterApplicationCall(index, at: now)
    }

    /// RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST> for an ACK, else
    /// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; never in answer to an RST.
    private mutating func resetClosed(_ segment: TCPRepr, tuple: TCPFourTuple, at now: NetInstant) {
        guard !segment.flags.contains(.rst) else { return }
        let reset: TCPRepr
        if segment.flags.contains(.ack) {
            reset = TCPRepr(sourcePort: tuple.localPort, destinationPort: tuple.remotePort,
                            sequenceNumber: segment.acknowledgmentNumber, flags: [.rst], windowSize: 0)
        } else {
            reset = TCPRepr(sourcePort: tuple.localPort, destinationPort: tuple.remotePort,
                            sequenceNumber: SequenceNumber(0),
                            acknowledgmentNumber: segment.sequenceNumber + segment.segmentLength,
                            flags: [.rst, .ack], windowSize: 0)
        }
        queueReply(.tcp(reset, source: tuple.localAddress, destination: tuple.remoteAddress, via: receivingFrom), at: now)
    }

    /// RFC 9293 §3.10.7.2 (LISTEN), with SYN cookies (RFC 4987 §3.6) past the backlog.
    private mutating func receiveOnListener<D: NetDelivery>(_ incoming: TCPIncoming, tuple: TCPFourTuple,
                                                            at now: NetInstant, delivery: inout D) {
        let segment = incoming.repr
        let flags = segment.flags
        if flags.contains(.rst) { return }
        let cookies = SYNCookie(secret: configuration.secret)
        if flags.contains(.ack) {
            // A cookie is taken only while this listener recently sent cookies (RFC 4987 §3.6:
            // otherwise any bare ACK would be checked, and one guessed right would open a connection).
            if configuration.tcp.synCookies && !flags.contains(.syn), now < listeners[tuple.localPort]!.overflowedUntil,
               let mss = cookies.validate(segment.acknowledgmentNumber - 1, tuple: tuple,
                                          peerSequence: segment.sequenceNumber - 1, at: now),
               let index = try? makeConnection(tuple, passive: true, at: now,
                                               initialSequenceNumber: segment.acknowledgmentNumber - 1) {
                statistics.tcpSYNCookiesAccepted += 1
                connections[index]!.linkAddress = receivingFrom
                connections[index]!.acceptCookie(segment, mss: mss, at: now)
                process(incoming, on: index, at: now, delivery: &delivery)
                return
            }
            resetClosed(segment, tuple: tuple, at: now)
            return
        }
        guard flags.contains(.syn) else { return }
        let listener = listeners[tuple.localPort]!
        if listener.halfOpen >= listener.backlog || liveConnections >= configuration.maximumConnections
            || bufferMemory.inUse + Self.connectionOverhead > bufferMemory.limit {
            // Overflow lasts as long as the cookies sent now stay valid (their period and the next).
            listeners[tuple.localPort]!.overflowedUntil = now + NetDuration(nanoseconds: Int64(2 * SYNCookie.period))
            guard configuration.tcp.synCookies else {
                // A full backlog drops the SYN, as Linux does: the client's retry may find room.
                // A full table or budget refuses with an RST: no retry soon will do better, and
                // an RPC client should learn at once and try another server.
                statistics.tcpListenDrops += 1
                if listener.halfOpen < listener.backlog { resetClosed(segment, tuple: tuple, at: now) }
                return
            }
            let peerMSS = segment.options.maximumSegmentSize.map(Int.init) ?? TCPConnection.defaultMSS
            let cookie = cookies.make(tuple: tuple, peerSequence: segment.sequenceNumber, peerMSS: peerMSS, at: now)
            let localMSS = interface.mtu - IPv4Packet.minimumHeaderLength - TCPSegment.minimumHeaderLength
            let reply = TCPRepr(sourcePort: tuple.localPort, destinationPort: tuple.remotePort, sequenceNumber: cookie,
                                acknowledgmentNumber: segment.sequenceNumber + 1, flags: [.syn, .ack],
                                windowSize: UInt16(clamping: configuration.tcp.receiveBufferSize),
                                options: TCPOptions(maximumSegmentSize: UInt16(clamping: localMSS)))
            statistics.tcpSYNCookiesSent += 1
            queueReply(.tcp(reply, source: tuple.localAddress, destination: tuple.remoteAddress, via: receivingFrom), at: now)
            return
        }
        guard let index = try? makeConnection(tuple, passive: true, at: now) else {
            statistics.tcpListenDrops += 1
            resetClosed(segment, tuple: tuple, at: now)
            return
        }
        listeners[tuple.localPort]!.halfOpen += 1
        connections[index]!.listenerPort = tuple.localPort
        connections[index]!.linkAddress = receivingFrom
        connections[index]!.acceptSYN(segment, at: now)
        nextDeadline = min(nextDeadline, now)
    }
}
