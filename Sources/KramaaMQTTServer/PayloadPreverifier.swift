import KramaaBroker
import KramaaMQTT
import NIOCore
import NIOPosix

/// The costly, stateless half of looking at a publication (a signature check), done away from
/// the broker's loop. The server hands a PUBLISH's payload to ``preverify(topic:payload:)`` on a
/// thread pool and gives the packet to the broker only once it returns, in the connection's
/// order, so the ``BrokerPayloadInspector`` on the loop finds the verdict ready instead of doing
/// the work itself. Preverifying moves work, it decides nothing: whatever it skipped or forgot,
/// the inspector checks.
public protocol PayloadPreverifier: Sendable {
    /// Cheap, on the loop: whether this publication is worth checking ahead.
    func wantsPreverification(topic: String, payload: [UInt8]) -> Bool
    /// On a pool thread: checks and remembers the verdict for the inspector.
    func preverify(topic: String, payload: [UInt8])
}

/// The pool that runs preverifications, and the choice of which PUBLISH packets go through it.
final class PreverificationPool: Sendable {
    let preverifier: PayloadPreverifier
    let pool: NIOThreadPool

    /// One thread per core: the broker's loop is one thread, verification wants the rest.
    init(_ preverifier: PayloadPreverifier, threads: Int = System.coreCount) {
        self.preverifier = preverifier
        pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
    }

    /// The future of `frame`'s preverification on `loop`, or nil when it needs none (not a
    /// PUBLISH, not decodable here: the broker will say why, or not wanted).
    func start(_ frame: MQTTFrame, version: MQTTVersion?, on loop: EventLoop) -> EventLoopFuture<Void>? {
        guard frame.type == .publish, let version, let publish = try? MQTTPublish(frame: frame, version: version),
              preverifier.wantsPreverification(topic: publish.topic, payload: publish.payload) else { return nil }
        let preverifier = self.preverifier
        return pool.runIfActive(eventLoop: loop) { preverifier.preverify(topic: publish.topic, payload: publish.payload) }
    }

    func shutdown() async { try? await pool.shutdownGracefully() }
}
