import KramaaJSON
import KramaaRPC
import KramaaTestSupport

extension HTTPReply {
    func json() throws -> JSON { try JSON.parse(body) }
}

extension LoopbackWebSocket {
    /// The next text message, parsed.
    func readJSON() throws -> JSON {
        let frame = try readFrame()
        guard frame.opcode == 0x1 else { throw LoopbackClientError.malformed("expected a text frame, got opcode \(frame.opcode)") }
        return try JSON.parse(frame.payload)
    }

    /// Sends a call and reads messages until one with an `id` (skipping subscription notifications).
    func answer(to text: String) throws -> JSON {
        try sendText(text)
        while true {
            let message = try readJSON()
            if message["id"] != nil { return message }
        }
    }

    /// Calls a subscribing test method and returns the subscription id.
    func subscribe(_ method: String = "subscribeTicks", id: String = "1") throws -> String {
        let answer = try answer(to: callBody(method, id: id))
        guard case .string(let subscription)? = answer["result"] else { throw LoopbackClientError.malformed("\(answer)") }
        return subscription
    }

    /// Sends a call and reads the next message (which must be its answer).
    func call(_ text: String) throws -> JSON {
        try sendText(text)
        return try readJSON()
    }
}
