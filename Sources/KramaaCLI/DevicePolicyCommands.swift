import ArgumentParser
import KramaaJSON
import KramaaPrimitives

extension DeviceCommand {
    /// `kramaa device policy show|set|revoke`: what a device may do with its own account,
    /// enforced by the protocol (docs/DEVICE-POLICIES.md), over `/api/v1/devices/{device}/policy`.
    struct Policy: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A device's spending policy, enforced by the protocol.",
                                                        subcommands: [Show.self, Set.self, Revoke.self])

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a device's policy with this period's spending (null: none).")
            @Argument var device: String
            @OptionGroup var connection: PlatformConnection
            func run() throws { _ = try connection.rest("GET", "/devices/\(device)/policy") }
        }

        struct Set: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Replace a device's whole policy (admins of its organisation).",
                discussion: "--call TARGET:SELECTOR allows a call (SELECTOR: * every function, transfer plain transfers, 0x and 8 hex digits, or a signature such as water(uint256)); --token-limit TOKEN:AMOUNT limits an ERC-20 token per period. Both repeat.")
            @Argument var device: String
            @Option(name: .customLong("native-per-period"), help: "Wei of native coin (value and its own fees) per period.") var nativePerPeriod = "0"
            @Option(help: "Seconds per period (0: one period, the policy's whole life).") var period: UInt64 = 0
            @Option(name: .customLong("valid-until"), help: "Unix seconds after which the device sends nothing (0: no end).") var validUntil: UInt64 = 0
            @Flag(name: .customLong("fees-sponsored"), help: "The device may only send transactions its organisation sponsors.") var feesSponsored = false
            @Option(name: .customLong("call"), help: "TARGET:SELECTOR, repeatable.") var calls: [String] = []
            @Option(name: .customLong("token-limit"), help: "TOKEN:AMOUNT per period, repeatable.") var tokens: [String] = []
            @OptionGroup var actor: Actor
            @OptionGroup var connection: PlatformConnection

            func run() throws {
                func pair(_ text: String, _ option: String) throws -> (String, String) {
                    guard let colon = text.firstIndex(of: ":") else { throw ValidationError("\(option) \(text): expected ADDRESS:VALUE") }
                    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
                }
                let callRules: [JSON] = try calls.map { let (target, selector) = try pair($0, "--call"); return ["target": .string(target), "selector": .string(selector)] }
                let tokenLimits: [JSON] = try tokens.map { let (token, amount) = try pair($0, "--token-limit"); return ["token": .string(token), "perPeriod": .string(amount)] }
                let body: JSONObject = ["nativePerPeriod": .string(nativePerPeriod), "period": .number(JSONNumber(period)),
                                        "validUntil": .number(JSONNumber(validUntil)), "feesSponsored": .bool(feesSponsored),
                                        "calls": .array(callRules), "tokens": .array(tokenLimits)]
                _ = try connection.rest("PUT", "/devices/\(device)/policy", try actor.signing(body))
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a device's policy: it sends nothing until a new one is set.")
            @Argument var device: String
            @OptionGroup var actor: Actor
            @OptionGroup var connection: PlatformConnection
            func run() throws { _ = try connection.rest("POST", "/devices/\(device)/policy/revoke", try actor.signing([:])) }
        }
    }
}
