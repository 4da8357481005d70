import ApusRPC
import ApusThrift
import CEpoll
#if canImport(Glibc)
import Glibc
#endif

/// One connection of an epoll loop: its socket, the stream core, the reply
/// bytes the socket has not taken yet. Touched only on its loop's thread.
final class EpollConnection: @unchecked Sendable {
    static let readEvents = CEPOLL_IN | CEPOLL_RDHUP

    let fd: Int32
    /// The fd and a serial: what the connection's epoll events carry.
    let token: UInt64
    let state: ConnectionState
    var core: ServerConnection
    /// Encoded replies not yet written.
    var output = ByteQueue()
    /// Replies made while `output` was over the high watermark, still unencoded.
    var held: [WireMessage] = []
    /// Reading stopped: too many replies owed, or too many reply bytes unsent.
    var paused = false
    /// The peer sent FIN (read returned 0).
    var peerHasFinished = false
    /// Output left after a write: the loop waits for EPOLLOUT.
    var writeBlocked = false
    /// On the loop's list of connections to write this pass.
    var isDirty = false
    /// Close once `output` and `held` are written (or at the drain timeout, from then).
    var closeWhenWritten: ServerConnection.Action?
    var closingSince: Duration?
    private(set) var isClosed = false
    /// Where the dispatcher sends this connection's replies; dropped at close (breaks the cycle).
    private(set) var sink: EpollResponseSink!
    /// The events the epoll set watches for now.
    private var interest = EpollConnection.readEvents

    init(fd: Int32, token: UInt64, state: ConnectionState, core: consuming ServerConnection, loop: EpollServerLoop) {
        self.fd = fd
        self.token = token
        self.state = state
        self.core = core
        self.sink = EpollResponseSink(loop: loop, connection: self)
    }

    var readingStopped: Bool { paused || peerHasFinished }

    /// Watches for input while reading goes on, for output while some is left.
    func updateInterest(_ epoll: EpollSet) {
        var events: UInt32 = readingStopped ? 0 : Self.readEvents
        if writeBlocked { events |= CEPOLL_OUT }
        guard events != interest else { return }
        interest = events
        try? epoll.watch(fd, events: events, token: token, operation: EPOLL_CTL_MOD)
    }

    func close() {
        isClosed = true
        state.markClosed()
        core.closed()
        output.removeAll()
        held.removeAll()
        closeWhenWritten = nil
        closingSince = nil
        sink = nil
    }
}

/// Where the dispatcher delivers one connection's replies: encoded on the
/// loop's thread, hopping there when a handler finished elsewhere.
final class EpollResponseSink: ResponseSink, @unchecked Sendable {
    // Strong: a call may outlive its connection; the connection drops its sink when it closes.
    let loop: EpollServerLoop
    let connection: EpollConnection

    init(loop: EpollServerLoop, connection: EpollConnection) {
        self.loop = loop
        self.connection = connection
    }

    func send(_ message: consuming OutgoingMessage, protocol protocolID: ThriftProtocolID) {
        if loop.executor.isCurrent {
            loop.reply(consume message, protocol: protocolID, on: connection)
        } else {
            let (loop, connection, message) = (self.loop, self.connection, message)
            loop.executor.execute { loop.reply(message, protocol: protocolID, on: connection) }
        }
    }
}
