import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KramaaJSON
import KramaaNFC
import KramaaPrimitives
import KramaaRPC

/// How a node reaches its tag peers (HTTP POST); a protocol so tests can cut a peer off.
public protocol TagPeerTransport: Sendable {
    func post(_ url: URL, body: [UInt8]) async throws -> (status: Int, body: [UInt8])
}

/// HTTP through URLSession, with a short timeout: a peer that does not answer in time counts
/// as not confirming.
public struct URLSessionTagTransport: TagPeerTransport {
    public var timeout: TimeInterval = 3

    public init() {}

    public func post(_ url: URL, body: [UInt8]) async throws -> (status: Int, body: [UInt8]) {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        return try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error { return continuation.resume(throwing: error) }
                continuation.resume(returning: ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data ?? Data())))
            }.resume()
        }
    }
}

/// What the organisation's nodes said about a genuine-looking tap's read counter.
public enum CounterConfirmation: Sendable, Equatable {
    /// A majority of the nodes (this one included) moved the counter to the tap's: genuine.
    case accepted(votes: Int)
    /// A node had seen this counter or a later one: the tap is a replay.
    case replayed(lastReadCounter: UInt32)
    /// Too few nodes answered to be sure the counter was never accepted elsewhere.
    case unavailable(votes: Int, needed: Int)
}

/// Keeps an organisation's tag keys and read counters on all of its nodes.
///
/// - Registration: the keys go to every peer, sealed to that peer's key (HPKE, auth mode).
/// - Counters: a tap is genuine only when a majority of the organisation's nodes (this one and
///   its peers) have each moved the tag's counter to the tap's, refusing one not above what they
///   hold. Any two majorities share a node, so a counter accepted through one node is refused as
///   replayed through any other; with a minority of nodes down taps still verify, with a
///   majority down they are answered "unavailable", never "genuine". A peer that lacks the tag
///   gets its registration first (the keys follow the counter).
public final class TagReplicator: Sendable {
    public static let path = "/api/v1/tags/replica"
    public let identity: TagReplicationIdentity
    public let peers: [TagPeer]
    let transport: any TagPeerTransport

    public init(identity: TagReplicationIdentity, peers: [TagPeer], transport: any TagPeerTransport = URLSessionTagTransport()) {
        self.identity = identity
        self.peers = peers
        self.transport = transport
    }

    /// Nodes that must accept a counter: a majority of this node and its peers.
    public var quorum: Int { (peers.count + 1) / 2 + 1 }

    // MARK: Sending

    /// Sends a registration (keys and last counter) to every peer; returns how many stored it.
    public func replicate(_ registration: TagRegistration, lastReadCounter: UInt32?) async -> Int {
        await withTaskGroup(of: Bool.self) { group in
            for peer in peers {
                group.addTask { await self.send(registration, lastReadCounter: lastReadCounter, to: peer) }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }

    /// Asks every peer to move `uid`'s counter to `counter` (this node has already accepted it)
    /// and judges the answers.
    public func confirm(uid: TagUID, counter: UInt32, store: TagKeyStore) async -> CounterConfirmation {
        let answers = await withTaskGroup(of: PeerAnswer.self) { group in
            for peer in peers {
                group.addTask { await self.askCounter(uid: uid, counter: counter, peer: peer, store: store) }
            }
            return await group.reduce(into: [PeerAnswer]()) { $0.append($1) }
        }
        let votes = 1 + answers.filter { $0 == .accepted }.count
        if votes >= quorum { return .accepted(votes: votes) }
        let seen = answers.compactMap { if case .refused(let last) = $0 { last } else { nil } }
        if let last = seen.max() { return .replayed(lastReadCounter: last) }
        return .unavailable(votes: votes, needed: quorum)
    }

    enum PeerAnswer: Equatable {
        case accepted
        case refused(last: UInt32)
        case unknownTag
        case unreachable
    }

    private func askCounter(uid: TagUID, counter: UInt32, peer: TagPeer, store: TagKeyStore) async -> PeerAnswer {
        let first = await counterRequest(uid: uid, counter: counter, peer: peer)
        guard first == .unknownTag, let (record, keys) = try? store.tag(uid) else { return first }
        let registration = try? TagRegistration(uid: uid, mode: record.mode, metaReadKey: keys.metaRead?.bytes, fileReadKey: keys.fileRead.bytes,
                                                macInputStart: record.macInputStart, urlLayout: record.urlLayout?.template,
                                                organisation: record.organisation)
        guard let registration, await send(registration, lastReadCounter: nil, to: peer) else { return .unreachable }
        return await counterRequest(uid: uid, counter: counter, peer: peer)
    }

    private func counterRequest(uid: TagUID, counter: UInt32, peer: TagPeer) async -> PeerAnswer {
        let nonce = Hex.encode((0..<16).map { _ in UInt8.random(in: .min ... .max) }, prefix: false)
        let message: JSON = ["kind": "counter", "uid": .string(uid.description), "counter": .number(JSONNumber(UInt64(counter))),
                             "nonce": .string(nonce)]
        guard let body = try? TagReplicaEnvelope.seal(message, from: identity, to: peer.publicKey),
              let (status, answer) = try? await transport.post(peer.url.appendingPathComponent(Self.path), body: body), status == 200,
              let (reply, _) = try? TagReplicaEnvelope.open(answer, at: identity, peers: [peer]),  // only `peer` can have sealed it
              reply["kind"]?.stringValue == "counterReply", reply["nonce"]?.stringValue == nonce,
              reply["uid"]?.stringValue == uid.description else { return .unreachable }
        if reply["known"]?.boolValue == false { return .unknownTag }
        if reply["accepted"]?.boolValue == true { return .accepted }
        return .refused(last: UInt32(truncatingIfNeeded: reply["lastReadCounter"]?.numberValue?.uint64 ?? UInt64(counter)))
    }

    private func send(_ registration: TagRegistration, lastReadCounter: UInt32?, to peer: TagPeer) async -> Bool {
        var message: JSONObject = [
            "kind": "registration", "uid": .string(registration.uid.description), "mode": .string(registration.mode.rawValue.lowercased()),
            "fileReadKey": .string(Hex.encode(registration.fileReadKey, prefix: false)),
            "macInputStart": .string(MACInputStartName.name(registration.macInputStart)),
            "organization": .number(JSONNumber(registration.organisation)),
        ]
        if let meta = registration.metaReadKey { message["metaReadKey"] = .string(Hex.encode(meta, prefix: false)) }
        if let layout = registration.urlLayout { message["urlLayout"] = .string(layout.template) }
        if let lastReadCounter { message["lastReadCounter"] = .number(JSONNumber(UInt64(lastReadCounter))) }
        guard let body = try? TagReplicaEnvelope.seal(.object(message), from: identity, to: peer.publicKey),
              let (status, _) = try? await transport.post(peer.url.appendingPathComponent(Self.path), body: body) else { return false }
        return status == 200 || status == 201
    }

    // MARK: Receiving

    /// Answers a peer's sealed message: stores a registration, or judges a counter and seals the
    /// answer to the peer. Anything not sealed by a configured peer to this node is refused (403).
    public func handle(_ body: [UInt8], store: TagKeyStore) async -> HTTPResponse {
        let message: JSON, peer: TagPeer
        do { (message, peer) = try TagReplicaEnvelope.open(body, at: identity, peers: peers) } catch {
            return TagEndpoints.problem(403, error.description)
        }
        switch message["kind"]?.stringValue {
        case "registration"?: return await storeRegistration(message, store: store)
        case "counter"?: return await judgeCounter(message, from: peer, store: store)
        default: return TagEndpoints.problem(400, "unknown replication message kind")
        }
    }

    private func storeRegistration(_ message: JSON, store: TagKeyStore) async -> HTTPResponse {
        let registration: TagRegistration
        do { registration = try TagEndpoints.registration(message) } catch { return TagEndpoints.problem(400, error.description) }
        do {
            _ = try store.register(registration)
        } catch {
            // The same tag of the same organisation again (a retry): nothing to do.
            guard case .alreadyRegistered = error, store.record(registration.uid)?.organisation == registration.organisation else {
                if case .alreadyRegistered = error { return TagEndpoints.problem(409, error.description) }
                return TagEndpoints.problem(400, error.description)
            }
        }
        if let last = message["lastReadCounter"]?.numberValue?.uint64, let counter = UInt32(exactly: last),
           case .genuine? = store.classify(uid: registration.uid, readCounter: counter, macIsValid: true) {
            try? await store.commit(uid: registration.uid, readCounter: counter)
        }
        return HTTPResponse(status: 201)
    }

    private func judgeCounter(_ message: JSON, from peer: TagPeer, store: TagKeyStore) async -> HTTPResponse {
        guard let uidText = message["uid"]?.stringValue, let uid = try? TagUID(hex: uidText),
              let value = message["counter"]?.numberValue?.uint64, let counter = UInt32(exactly: value),
              let nonce = message["nonce"]?.stringValue else {
            return TagEndpoints.problem(400, "a counter message has uid, counter and nonce")
        }
        var reply: JSONObject = ["kind": "counterReply", "uid": .string(uid.description), "nonce": .string(nonce)]
        switch store.classify(uid: uid, readCounter: counter, macIsValid: true) {
        case nil:
            reply["known"] = false
        case .genuine?:
            do { try await store.commit(uid: uid, readCounter: counter) } catch { return TagEndpoints.problem(503, error.description) }
            reply["known"] = true
            reply["accepted"] = true
        case let verdict?:
            reply["known"] = true
            reply["accepted"] = false
            if case .replayed(_, _, let last) = verdict { reply["lastReadCounter"] = .number(JSONNumber(UInt64(last))) }
        }
        guard let sealed = try? TagReplicaEnvelope.seal(.object(reply), from: identity, to: peer.publicKey) else {
            return TagEndpoints.problem(503, "cannot seal the answer")
        }
        return HTTPResponse(status: 200, headers: [("content-type", "application/json")], body: sealed)
    }
}
