import KramaaBroker
import KramaaMQTT
import KramaaPlatform
import KramaaPrimitives
import NIOConcurrencyHelpers

/// Who may publish and subscribe where, for principals the chain authenticated:
///
/// - `devices/{address}/…` is a device's own namespace: it publishes and subscribes there freely.
/// - A device may publish to and subscribe to the namespace of another device of its own
///   organisation (`devices/{peer}/…`), and to its organisation's namespace `orgs/{org}/…`.
/// - Another organisation's devices and `orgs/{org}/…` as that organisation's admins granted
///   on chain (``MessagingPolicy``: publish and/or subscribe).
/// - `bridges/{host}_{port}/…` (what a bridge relays in from a site's broker): the devices of
///   the organisations the operator named for that bridge (`--bridge-readers`) may subscribe;
///   nobody else, and no device may publish there (only the bridge, an operator, writes).
/// - Nothing else: wildcards across devices (`devices/+/…`, `#`) and other top-level topics
///   are refused with 0x87.
///
/// Anonymous clients (allowed only with `--mqtt-allow-anonymous`) live under their mount point
/// `sandbox/`, which confines them; within it they may do anything. Operators (the node's own
/// bridge and relays) have the group `operator` and may do anything.
public final class DeviceTopicPolicy: BrokerAuthorizer, @unchecked Sendable {
    /// The device whose inbox `topic` is (`devices/{address}/inbox` and below), or nil.
    public static func inboxRecipient(_ topic: String) -> Address? {
        let levels = topic.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard levels.count >= 3, levels[0] == "devices", levels[2] == "inbox" else { return nil }
        return try? Address(hex: levels[1])
    }

    public static let anonymousMountPoint = "sandbox/"
    public static let operatorGroup = "operator"

    private let organizationOf: (String) -> String?
    private let rightsOf: (_ org: String, _ peer: String) -> MessagingPolicy.Rights
    /// The organisations whose devices may read each bridge's mount, by `{host}_{port}`.
    private let bridgeReaders: [String: Set<String>]
    /// Grants read so far, by `org:peer`; at most `maximumCachedGrants` (topics name any
    /// organisation number, so the cache is cleared rather than grown past it).
    private let grants = NIOLockedValueBox([String: MessagingPolicy.Rights]())
    static let maximumCachedGrants = 10_000

    /// - Parameters:
    ///   - organizationOf: a device's organisation when it is an active device (the caller
    ///     caches registry answers: ``ChainDevices``).
    ///   - rightsOf: what organisation `org` grants the devices of `peer` (the chain).
    ///   - bridgeReaders: by bridge mount level (`{host}_{port}`), the organisations whose
    ///     devices may subscribe to what that bridge relays in.
    public init(organizationOf: @escaping (_ device: String) -> String?,
                rightsOf: @escaping (_ org: String, _ peer: String) -> MessagingPolicy.Rights = { _, _ in [] },
                bridgeReaders: [String: Set<String>] = [:]) {
        self.organizationOf = organizationOf
        self.rightsOf = rightsOf
        self.bridgeReaders = bridgeReaders
    }

    /// Forgets every cached grant (one changed on chain).
    public func forgetGrants() { grants.withLockedValue { $0.removeAll() } }

    public func mayPublish(_ principal: Principal, topic: String) -> Refusal? {
        allowed(principal, topic, needing: .publish) ? nil : Refusal(0x87, "\(principal) may not publish to \(topic)")
    }

    public func maySubscribe(_ principal: Principal, filter: String) -> Refusal? {
        allowed(principal, filter, needing: .subscribe) ? nil : Refusal(0x87, "\(principal) may not subscribe to \(filter)")
    }

    private func allowed(_ principal: Principal, _ topic: String, needing right: MessagingPolicy.Rights) -> Bool {
        if principal.group == Self.operatorGroup { return true }
        if !principal.mountPoint.isEmpty { return topic.hasPrefix(principal.mountPoint) }
        let levels = topic.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard levels.count >= 2 else { return false }
        let owner = String(levels[1])
        switch levels[0] {
        case "devices":
            if owner == principal.name { return true }
            // Addresses are written in lower case in topics (topics are case-sensitive).
            guard !owner.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }), !owner.contains("+"), !owner.contains("#"), !principal.group.isEmpty,
                  let org = organizationOf(owner) else { return false }
            return org == principal.group || granted(org, to: principal.group).contains(right)
        case "orgs":
            guard !principal.group.isEmpty, !owner.contains("+"), !owner.contains("#") else { return false }
            return owner == principal.group || granted(owner, to: principal.group).contains(right)
        case "bridges":
            return right == .subscribe && bridgeReaders[owner]?.contains(principal.group) == true
        default:
            return false
        }
    }

    private func granted(_ org: String, to peer: String) -> MessagingPolicy.Rights {
        let key = org + ":" + peer
        if let hit = grants.withLockedValue({ $0[key] }) { return hit }
        let rights = rightsOf(org, peer)
        grants.withLockedValue { cache in
            if cache.count >= Self.maximumCachedGrants { cache.removeAll() }
            cache[key] = rights
        }
        return rights
    }

}
