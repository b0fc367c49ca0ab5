import KramaaContracts
import KramaaJSON
import KramaaPrimitives

/// The functions and events of contracts whose ABI the node knows: the platform's own Vyper
/// contracts (contracts/*.vy, compiled into KramaaContracts), wherever they are deployed. A call
/// is matched by its selector and a log by its first topic and its number of indexed arguments,
/// since a selector or topic fixes the argument types (ERC-20's and ERC-721's `Transfer` share a
/// topic and differ only in what is indexed).
struct ContractABIs {
    struct Argument {
        var name: String
        var type: String
        var indexed: Bool
    }

    struct Function {
        var signature: String
        var types: [String]
        /// The contracts whose ABI has it.
        var contracts: [String]
    }

    struct Event {
        var name: String
        var contract: String
        var arguments: [Argument]
    }

    private(set) var functions: [UInt32: Function] = [:]
    private(set) var events: [Bytes32: [Event]] = [:]

    /// The platform's compiled contracts.
    static let platform = ContractABIs(CompiledContract.allCases.map { ($0.rawValue, $0.abiJSON) })

    init(_ abis: [(contract: String, json: String)]) {
        for (contract, text) in abis {
            guard let entries = (try? JSON.parse(Array(text.utf8)))?.arrayValue else { continue }
            for entry in entries {
                guard let name = entry["name"]?.stringValue, let inputs = entry["inputs"]?.arrayValue else { continue }
                let arguments = inputs.map { Argument(name: $0["name"]?.stringValue ?? "", type: $0["type"]?.stringValue ?? "",
                                                      indexed: $0["indexed"]?.boolValue ?? false) }
                // Tuples would need their components spelled out; the platform's inputs have none.
                guard !arguments.contains(where: { $0.type.hasPrefix("tuple") || $0.type.isEmpty }) else { continue }
                let signature = "\(name)(\(arguments.map(\.type).joined(separator: ",")))"
                let hash = Keccak256.hash(Array(signature.utf8))
                switch entry["type"]?.stringValue {
                case "function"?:
                    let selector = hash.bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                    functions[selector, default: Function(signature: signature, types: arguments.map(\.type), contracts: [])].contracts.append(contract)
                case "event"?:
                    let event = Event(name: name, contract: contract, arguments: arguments)
                    if !(events[hash] ?? []).contains(where: { $0.arguments.map(\.indexed) == event.arguments.map(\.indexed) }) {
                        events[hash, default: []].append(event)
                    }
                default: continue
                }
            }
        }
    }

    /// The known function `calldata` calls.
    func function(_ calldata: [UInt8]) -> Function? {
        guard calldata.count >= 4 else { return nil }
        return functions[calldata.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }]
    }

    /// A log decoded by a known event: its name and arguments (indexed ones from the topics), nil
    /// when no known event has its topic and shape or an argument does not decode.
    func decode(topics: [Bytes32], data: [UInt8]) -> (event: Event, values: [String])? {
        guard let first = topics.first, let candidates = events[first],
              let event = candidates.first(where: { $0.arguments.filter(\.indexed).count == topics.count - 1 }) else { return nil }
        var topic = topics.dropFirst().makeIterator()
        var d = ABIDecoder(data[...])
        var values: [String] = []
        for argument in event.arguments {
            if argument.indexed {
                guard let word = topic.next() else { return nil }
                var w = ABIDecoder(word.bytes[...])
                // Indexed dynamic values are stored as their hash.
                let value = Self.isDynamic(argument.type) ? word.description : Self.value(of: argument.type, from: &w)
                guard let value else { return nil }
                values.append(value)
            } else {
                guard let value = Self.value(of: argument.type, from: &d) else { return nil }
                values.append(value)
            }
        }
        return (event, values)
    }

    static func isDynamic(_ type: String) -> Bool { type == "string" || type == "bytes" || type.hasSuffix("]") }

    /// One argument by its ABI type (static types, `string` and `bytes`); nil otherwise.
    static func value(of type: String, from d: inout ABIDecoder) -> String? {
        switch type {
        case "address": return (try? d.nextAddress())?.checksummed
        case "string": return try? d.nextString()
        case "bytes": return (try? d.nextBytes()).map { bytes in
            bytes.first == UInt8(ascii: "{") ? String(decoding: bytes.prefix(2048), as: UTF8.self) + (bytes.count > 2048 ? "…" : "") : Dashboard.hexPreview(bytes) }
        case "bool": return (try? d.nextBool()).map { "\($0)" }
        case let t where t.hasPrefix("uint"): return (try? d.nextUInt())?.description
        case let t where t.hasPrefix("int"): return (try? d.nextUInt()).map { word in
            word.isNegative ? "-" + (UInt256.zero &- word).description : word.description }
        case let t where t.hasPrefix("bytes") && !t.hasSuffix("]"): return (try? d.nextBytes32())?.description
        default: return nil
        }
    }
}
