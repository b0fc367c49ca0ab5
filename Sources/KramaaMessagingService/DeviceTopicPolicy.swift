import KramaaBroker
import KramaaMQTT
import NIOConcurrencyHelpers

/// Who may publish and subscribe where, for principals the chain authenticated:
///
/// - `devices/{address}/…` is a device's own namespace: it publishes and subscribes there freely.
/// - A device may publish to and subscribe to the namespace of another device of its own
///   organisation (`devices/{peer}/…`), and to its organisation's namespace `orgs/{org}/…`.
/// - `bridges/{host}_{port}/…` (what a bridge relays in from a site's broker): any device may
///   subscribe, none may publish (only the bridge, an operator, writes there).
/// - Nothing else: other organisations' devices, wildcards across devices (`devices/+/…`,
///   `#`) and other top-level topics are refused with 0x87.
///
/// Anonymous clients (allowed only with `--mqtt-allow-anonymous`) live under their mount point
/// `sandbox/`, which confines them; within it they may do anything. Operators (the node's own
/// bridge and relays) have the group `operator` and may do anything.
public final class DeviceTopicPolicy: BrokerAuthorizer, @unchecked Sendable {
    public static let anonymousMountPoint = "sandbox/"
    public static let operatorGroup = "operator"

    /// The organisation of a device (nil: not a registered, active device), cached; the cache
    /// is cleared for devices whose registry entries change (`forget`).
    private let organizationOf: (String) -> String?
    private let cache = NIOLockedValueBox([String: String?]())

    public init(organizationOf: @escaping (_ device: String) -> String?) {
        self.organizationOf = organizationOf
    }

    public func forget(_ devices: Set<String>) {
        cache.withLockedValue { c in for d in devices { c[d] = nil } }
    }

    public func mayPublish(_ principal: Principal, topic: String) -> Refusal? {
        allowed(principal, topic, wildcards: false) ? nil : Refusal(0x87, "\(principal) may not publish to \(topic)")
    }

    public func maySubscribe(_ principal: Principal, filter: String) -> Refusal? {
        allowed(principal, filter, wildcards: true) ? nil : Refusal(0x87, "\(principal) may not subscribe to \(filter)")
    }

    private func allowed(_ principal: Principal, _ topic: String, wildcards: Bool) -> Bool {
        if principal.group == Self.operatorGroup { return true }
        if !principal.mountPoint.isEmpty { return topic.hasPrefix(principal.mountPoint) }
        let levels = topic.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard levels.count >= 2 else { return false }
        let owner = String(levels[1])
        switch levels[0] {
        case "devices":
            if owner == principal.name { return true }
            // Addresses are written in lower case in topics (topics are case-sensitive).
            guard owner == owner.lowercased(), !owner.contains("+"), !owner.contains("#") else { return false }
            return !principal.group.isEmpty && organization(owner) == principal.group
        case "orgs":
            return owner == principal.group
        case "bridges":
            // What bridges relay from sites' brokers: any device may read it; only the bridge writes it.
            return wildcards
        default:
            return false
        }
    }

    private func organization(_ device: String) -> String? {
        if let hit = cache.withLockedValue({ $0[device] }) { return hit }
        let found = organizationOf(device)
        cache.withLockedValue { $0[device] = .some(found) }
        return found
    }
}
