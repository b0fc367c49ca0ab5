import KramaaPrimitives
import Dispatch

/// A contract implemented natively in Swift at a fixed address: the chain's governance and
/// platform logic (validators, organisations, devices, assets, provenance).
///
/// It is called like any contract — by transactions and by EVM code, with the Solidity ABI — and
/// keeps its data in its own account's storage, so the state root commits to it, proofs cover
/// it and every node replicates it. Its events are ordinary logs. Gas is charged at EVM prices
/// for what it reads, writes and emits, plus a per-call base.
public protocol SystemContract: Sendable {
    /// Runs one call. Return the ABI-encoded output; throw ``SystemCallError/revert(_:)`` to undo
    /// every change of the call and return revert data.
    func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8]

    /// Work on a transaction's `input` that depends on nothing else (no state, no block), done
    /// before the transaction runs and possibly on another thread, while the block's
    /// transactions are prepared in parallel. ``SystemCall/prepared`` hands the result to
    /// `execute` when the transaction calls this contract directly. Whatever it returns,
    /// `execute` must behave exactly as without it: same output, state, logs and gas.
    /// Nil (the default): nothing to prepare.
    func prepare(_ input: [UInt8]) -> (any Sendable)?
}

extension SystemContract {
    public func prepare(_ input: [UInt8]) -> (any Sendable)? { nil }
}

/// How a system-contract call stops early.
public enum SystemCallError: Error, Equatable, Sendable {
    /// Undo the call's changes and return this data (usually Solidity's `Error(string)`).
    case revert([UInt8])
    /// The call's gas ran out: all of it is consumed, changes undone.
    case outOfGas

    /// A revert with Solidity's `Error(string)` carrying `reason`, which clients (web3.py,
    /// ethers) show to the user.
    public static func reverted(_ reason: String) -> SystemCallError { .revert(ABI.errorString(reason)) }
}

/// Native contracts by address, handed to the EVM next to the precompiles.
public struct SystemContracts: Sendable {
    public var byAddress: [Address: any SystemContract]
    /// The platform's rule on senders, applied before each transaction of a block runs.
    public var gate: (any TransactionGate)?
    /// The system calls each block begins with (due triggers).
    public var blockHook: (any BlockHook)?

    public init(_ byAddress: [Address: any SystemContract] = [:], gate: (any TransactionGate)? = nil, blockHook: (any BlockHook)? = nil) {
        self.byAddress = byAddress
        self.gate = gate
        self.blockHook = blockHook
    }

    public static let none = SystemContracts()

    /// ``SystemContract/prepare(_:)`` of the contract at `to` for `input`; nil when `to` is no
    /// system contract or it has nothing to prepare.
    public func prepare(to: Address?, input: [UInt8]) -> (any Sendable)? {
        guard let to, let contract = byAddress[to] else { return nil }
        return contract.prepare(input)
    }

    /// The preparations of `transactions` (each its `to` and `input`), in their order,
    /// computed in parallel over the machine's cores; nil entries where there is nothing to
    /// prepare. Runs nothing at all when no transaction calls a system contract.
    public func prepare(_ transactions: [(to: Address?, input: [UInt8])]) -> [(any Sendable)?] {
        let indices = transactions.indices.filter { transactions[$0].to.map { byAddress[$0] != nil } ?? false }
        var results = [(any Sendable)?](repeating: nil, count: transactions.count)
        guard !indices.isEmpty else { return results }
        results.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out  // each iteration writes its own element
            DispatchQueue.concurrentPerform(iterations: indices.count) { k in
                let i = indices[k]
                out[i] = prepare(to: transactions[i].to, input: transactions[i].input)
            }
        }
        return results
    }

    /// Code placed at each system contract's address in genesis: the single byte INVALID (0xfe),
    /// so the account is a contract (EXTCODESIZE > 0, as Solidity's callers check) but its code
    /// never runs — the EVM dispatches to the native implementation first.
    public static let marker: [UInt8] = [0xfe]

    /// The address `0x000000000000000000000000000000004b52nnnn` of system contract `n` ("KR").
    public static func address(_ n: UInt16) -> Address {
        var bytes = [UInt8](repeating: 0, count: 20)
        bytes[16] = 0x4b
        bytes[17] = 0x52
        bytes[18] = UInt8(n >> 8)
        bytes[19] = UInt8(truncatingIfNeeded: n)
        return try! Address(bytes)
    }
}

/// One call into a system contract: who called with what, and metered access to state.
///
/// Reads of any account's storage are allowed (system contracts consult each other); writes go
/// to the contract's own storage only, and are refused in a static call.
public final class SystemCall {
    /// The system contract's address.
    public let address: Address
    public let caller: Address
    public let value: UInt256
    public let input: [UInt8]
    public let isStatic: Bool
    public private(set) var gasLeft: Int64
    let evm: EVM
    let depth: Int

    /// Gas every call pays before doing anything (as a minimal contract's dispatch would).
    public static let baseGas: Int64 = 700

    init(evm: EVM, message: Message) {
        self.evm = evm
        self.address = message.recipient
        self.caller = message.caller
        self.value = message.value
        self.input = message.input
        self.isStatic = message.isStatic
        self.gasLeft = message.gas
        self.depth = message.depth
    }

    /// What this contract's ``SystemContract/prepare(_:)`` returned for the transaction's input,
    /// when this is the transaction's own call of the contract (depth 0); nil otherwise.
    public var prepared: (any Sendable)? { depth == 0 ? evm.transaction.prepared : nil }

    /// The transaction's sender (ORIGIN).
    public var origin: Address { evm.transaction.origin }
    public var blockNumber: UInt64 { evm.block.number }
    public var timestamp: UInt64 { evm.block.timestamp }
    public var chainId: UInt64 { evm.block.chainId }
    public var baseFee: UInt256 { evm.block.baseFee }
    public var coinbase: Address { evm.block.coinbase }

    /// The 4-byte function selector, or nil when the input is shorter.
    public var selector: UInt32? { SystemMethod.selector(of: input) }

    /// A decoder over the arguments after the selector.
    public var arguments: ABIDecoder { ABIDecoder(calldata: input) }

    public func charge(_ gas: Int64) throws(SystemCallError) {
        guard gas <= gasLeft else { gasLeft = 0; throw .outOfGas }
        gasLeft -= gas
    }

    /// Charges for hashing `bytes` bytes with Keccak-256, as the KECCAK256 opcode would.
    public func chargeHashing(_ bytes: Int) throws(SystemCallError) {
        try charge(Gas.keccak + Gas.keccakWord * Gas.words(Int64(bytes)))
    }

    /// A storage slot of `account` (another system contract), priced as SLOAD (EIP-2929).
    public func load(_ slot: UInt256, of account: Address) throws(SystemCallError) -> UInt256 {
        try charge(evm.state.warm(account, slot: slot) ? Gas.coldSload : Gas.warmAccess)
        return evm.state.storage(account, slot)
    }

    /// Writes one of this contract's storage slots, priced as SSTORE without refunds.
    public func store(_ slot: UInt256, _ value: UInt256) throws(SystemCallError) {
        guard !isStatic else { throw .reverted("state change in a static call") }
        let cold = evm.state.warm(address, slot: slot)
        let current = evm.state.storage(address, slot)
        var price = current == value ? Gas.warmAccess
            : (evm.state.originalStorage(address, slot).isZero && current.isZero ? Gas.sstoreSet : Gas.sstoreReset)
        if cold { price += Gas.coldSload }
        try charge(price)
        if current != value { evm.state.setStorage(address, slot, value) }
    }

    /// Emits a log from this contract, priced as LOGn.
    public func emit(_ topics: [Bytes32], _ data: [UInt8] = []) throws(SystemCallError) {
        guard !isStatic else { throw .reverted("log in a static call") }
        try charge(Gas.log + Gas.logTopic * Int64(topics.count) + Gas.logByte * Int64(data.count))
        let log = Log(address: address, topics: topics, data: data)
        evm.state.addLog(log)
        evm.tracer?.onLog(log)
    }

    /// Whether `account` has code (a contract, possibly another system contract).
    public func hasCode(_ account: Address) throws(SystemCallError) -> Bool {
        try charge(evm.state.warm(account) ? Gas.coldAccountAccess : Gas.warmAccess)
        return !evm.state.code(account).bytes.isEmpty
    }

    /// Calls another contract from this one (e.g. ERC-721's `onERC721Received`), forwarding at
    /// most 63/64 of the gas left (EIP-150), and at most `gas` when given; the gas it uses is
    /// charged here.
    public func call(_ target: Address, input: [UInt8], value: UInt256 = .zero, gas: Int64? = nil) throws(SystemCallError) -> ExecutionResult {
        try charge(evm.state.warm(target) ? Gas.coldAccountAccess : Gas.warmAccess)
        if !value.isZero {
            guard !isStatic else { throw .reverted("value transfer in a static call") }
            try charge(Gas.callValue)
        }
        let forwarded = min(gasLeft - gasLeft / 64, gas ?? .max)
        let result = evm.call(Message(kind: .call, caller: address, recipient: target, codeAddress: target, value: value,
                                      input: input, gas: forwarded, isStatic: isStatic, depth: depth + 1))
        gasLeft -= forwarded - result.gasLeft
        return result
    }
}

extension EVM {
    /// Runs a message whose code address is a system contract. DELEGATECALL and CALLCODE are
    /// refused: a system contract acts on its own storage only.
    func runSystemContract(_ contract: any SystemContract, _ msg: Message) -> ExecutionResult {
        guard msg.kind == .call || msg.kind == .staticCall, msg.recipient == msg.codeAddress else {
            return ExecutionResult(status: .revert, gasLeft: msg.gas,
                                   output: ABI.errorString("system contracts cannot be called by DELEGATECALL or CALLCODE"))
        }
        let call = SystemCall(evm: self, message: msg)
        do {
            try call.charge(SystemCall.baseGas)
            let output = try contract.execute(call)
            return ExecutionResult(status: .success, gasLeft: call.gasLeft, output: output)
        } catch .revert(let data) {
            return ExecutionResult(status: .revert, gasLeft: call.gasLeft, output: data)
        } catch {
            return ExecutionResult(status: .failure(.outOfGas), gasLeft: 0)
        }
    }
}

/// A function of a system contract: its Solidity signature and selector, for dispatch tables.
public struct SystemMethod: Sendable {
    public let signature: String
    public let selector: UInt32

    public init(_ signature: String) {
        self.signature = signature
        self.selector = ABI.selectorValue(signature)
    }
}

extension SystemCall {
    /// Decodes the arguments with `body`; malformed calldata reverts with what was wrong.
    public func decode<T>(_ body: (inout ABIDecoder) throws(ABIDecodingError) -> T) throws(SystemCallError) -> T {
        var decoder = arguments
        do { return try body(&decoder) } catch { throw .reverted("invalid arguments: \(error)") }
    }

    /// Reverts with `reason` unless `condition` holds.
    public func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws(SystemCallError) {
        if !condition { throw .reverted(reason()) }
    }

    /// Refuses ether sent to a function that does not take it.
    public func requireNoValue() throws(SystemCallError) {
        try require(value.isZero, "this function does not accept value")
    }
}

extension SystemMethod {
    /// The selector `calldata` begins with (its first four bytes, big-endian); nil when shorter.
    public static func selector(of calldata: [UInt8]) -> UInt32? {
        guard calldata.count >= 4 else { return nil }
        return calldata[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The 4-byte selector as it starts calldata.
    public var selectorBytes: [UInt8] {
        [UInt8(selector >> 24), UInt8(selector >> 16 & 0xff), UInt8(selector >> 8 & 0xff), UInt8(selector & 0xff)]
    }

    /// The calldata of a call of this function with `arguments` (Solidity ABI).
    public func callData(_ arguments: [ABIValue] = []) -> [UInt8] { selectorBytes + ABI.encode(arguments) }
}
