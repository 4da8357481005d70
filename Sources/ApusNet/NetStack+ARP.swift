import ApusWire

extension NetStack {
    /// RFC 826 "Packet Reception": update the sender if it is known (merge), add it if the
    /// packet is for one of our addresses, and answer requests for our addresses. Requests
    /// for anyone else are ignored; a gratuitous ARP refreshes an entry we already hold.
    mutating func receiveARP(_ bytes: UnsafeRawBufferPointer, at now: NetInstant) {
        let arp: ARPRepr
        do {
            arp = ARPRepr(parsing: try ARPPacket(bytes))
        } catch {
            statistics.droppedMalformed += 1
            return
        }
        guard arp.operation == .request || arp.operation == .reply else {
            statistics.droppedMalformed += 1
            return
        }
        let sender = arp.senderProtocolAddress
        let senderMAC = arp.senderHardwareAddress
        let forUs = interface.owns(arp.targetProtocolAddress)
        let learnable = !sender.isUnspecified && senderMAC.isUnicast && !interface.owns(sender)
        // A gratuitous ARP (sender and target the same address, RFC 5227 announcements) may move
        // an entry at once; other unsolicited ARP may not while the entry is locked.
        let gratuitous = sender == arp.targetProtocolAddress
        if interface.owns(sender) {
            // Our own address from another MAC is a conflict, never a neighbor to learn or a
            // request to answer (answering each claim would let a host make us flood).
            if senderMAC != interface.macAddress { defendAddress(sender, at: now) }
            return
        }
        if learnable && !gratuitous && arpCache.isLocked(sender, against: senderMAC, at: now) {
            statistics.arpUpdatesIgnored += 1
        } else if learnable && (forUs || arpCache.contains(sender)) {
            if !arpCache.contains(sender) { statistics.arpEntriesLearned += 1 }
            configuration.sharedNeighbours?.publish(sender, at: senderMAC, now: now)
            let waiting = arpCache.learn(sender, at: senderMAC, now: now)
            // Already admitted (the neighbor queue bounds them): never dropped here.
            for packet in waiting { queueReply(.packet(packet, to: senderMAC), bounded: false, at: now) }
            wakeNeighborWaiters(at: now)
        }
        if forUs && arp.operation == .request {
            statistics.arpRequestsAnswered += 1
            let reply = ARPRepr(operation: .reply, senderHardwareAddress: interface.macAddress,
                                senderProtocolAddress: arp.targetProtocolAddress,
                                targetHardwareAddress: senderMAC, targetProtocolAddress: sender)
            queueReply(.arp(reply, to: senderMAC), at: now)
        }
    }

    /// RFC 5227 §2.4 (b): someone else claims one of our addresses. Defend it with one ARP
    /// announcement, at most once per DEFEND_INTERVAL (10 s), so hosts that cached the claim
    /// come back to us; a conflict that persists is counted (`arpAddressConflicts`) for the
    /// operator, never fought packet for packet.
    private mutating func defendAddress(_ address: IPv4Address, at now: NetInstant) {
        statistics.arpAddressConflicts += 1
        guard lastAddressDefense.map({ now - $0 >= .seconds(10) }) ?? true else { return }
        lastAddressDefense = now
        let announcement = ARPRepr(operation: .request, senderHardwareAddress: interface.macAddress,
                                   senderProtocolAddress: address, targetHardwareAddress: .zero,
                                   targetProtocolAddress: address)
        queueReply(.arp(announcement, to: .broadcast), at: now)
    }

    /// Sends the ARP requests that are due, giving up (and dropping the queued packets) on
    /// addresses that did not answer `maximumRequests` of them. Returns false when the
    /// transmitter ran out of frames.
    mutating func sendARPRequests<T: FrameTransmitter & ~Copyable>(at now: NetInstant, transmitter: inout T) -> Bool {
        for address in arpCache.dueRequests(at: now) {
            // Another queue's stack may have heard the answer (the NIC hashed it there).
            if let mac = configuration.sharedNeighbours?.lookup(address, at: now) {
                for packet in arpCache.learn(address, at: mac, now: now) {
                    queueReply(.packet(packet, to: mac), bounded: false, at: now)
                }
                wakeNeighborWaiters(at: now)
                continue
            }
            switch arpCache.requestDue(address, now: now) {
            case .gaveUp(let dropped):
                statistics.arpResolutionFailures += 1
                statistics.arpQueueDrops += dropped
            case .send:
                let source = interface.addresses.first(where: { interface.subnet?.contains($0) ?? true })
                    ?? interface.addresses[0]
                let request = ARPRepr(operation: .request, senderHardwareAddress: interface.macAddress,
                                      senderProtocolAddress: source, targetHardwareAddress: .zero,
                                      targetProtocolAddress: address)
                let link = interface.link(to: .broadcast, .arp)
                guard FrameWriter.transmit(&transmitter, link: link, arp: request) else { return false }
                statistics.framesSent += 1
                statistics.arpRequestsSent += 1
                arpCache.requestSent(address, now: now)
            }
        }
        return true
    }
}
