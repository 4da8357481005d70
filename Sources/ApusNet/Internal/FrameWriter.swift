import ApusWire

/// Builds outgoing frames in place: Ethernet and IPv4 headers around a
/// transport payload written by the caller.
enum FrameWriter {
    /// Asks `transmitter` for a frame and fills it: `body` writes the `ip.payloadLength`
    /// transport bytes (it receives exactly that slice), then the IPv4 and Ethernet headers
    /// go in front. Returns false when no frame was free.
    static func transmit<T: FrameTransmitter & ~Copyable>(_ transmitter: inout T, link: EthernetRepr, ip: IPv4Repr,
                                              _ body: (UnsafeMutableRawBufferPointer) -> Void) -> Bool {
        let ipOffset = link.headerLength
        let transportOffset = ipOffset + ip.headerLength
        let total = transportOffset + ip.payloadLength
        return transmitter.transmit(maximumLength: total) { frame in
            guard frame.count >= total else { return 0 }
            body(UnsafeMutableRawBufferPointer(rebasing: frame[transportOffset..<total]))
            do {
                try ip.emit(into: UnsafeMutableRawBufferPointer(rebasing: frame[ipOffset..<total]))
                try link.emit(into: frame)
            } catch {
                return 0
            }
            return total
        }
    }

    /// An ARP packet in a frame of its own.
    static func transmit<T: FrameTransmitter & ~Copyable>(_ transmitter: inout T, link: EthernetRepr, arp: ARPRepr) -> Bool {
        let total = link.headerLength + arp.bufferLength
        return transmitter.transmit(maximumLength: total) { frame in
            guard frame.count >= total else { return 0 }
            do {
                try arp.emit(into: UnsafeMutableRawBufferPointer(rebasing: frame[link.headerLength..<total]))
                try link.emit(into: frame)
            } catch {
                return 0
            }
            return total
        }
    }
}
