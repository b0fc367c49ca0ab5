import Foundation
import KramaaRPC

/// Runs synchronous work that produces a body (a DAG walk reading blocks from disk) on a
/// thread of its own, handing pieces to the HTTP writer through a bounded queue: at most
/// `depth` pieces wait, so a slow client holds the walk back instead of filling memory. If the
/// client goes away the producer's next `emit` throws and the thread ends.
enum BlockingProducer {
    struct Cancelled: Error {}

    static func stream(depth: Int = 8, _ work: @escaping @Sendable (_ emit: ([UInt8]) throws -> Void) throws -> Void) -> HTTPBodyStream {
        HTTPBodyStream { writer in
            let slots = DispatchSemaphore(value: depth)
            let state = CancelState()
            let (pieces, continuation) = AsyncStream.makeStream(of: Result<[UInt8], Error>.self, bufferingPolicy: .unbounded)
            let thread = Thread {
                do {
                    try work { bytes in
                        slots.wait()
                        if state.cancelled { throw Cancelled() }
                        continuation.yield(.success(bytes))
                    }
                } catch {
                    if !(error is Cancelled) { continuation.yield(.failure(error)) }
                }
                continuation.finish()
            }
            thread.stackSize = 1 << 20
            thread.start()
            do {
                for await piece in pieces {
                    try await writer.write(try piece.get())
                    slots.signal()
                }
            } catch {
                state.cancel()
                for _ in 0..<depth + 1 { slots.signal() }
                throw error
            }
        }
    }

    final class CancelState: @unchecked Sendable {
        private let lock = NSLock()
        private var flag = false
        var cancelled: Bool { lock.withLock { flag } }
        func cancel() { lock.withLock { flag = true } }
    }
}
