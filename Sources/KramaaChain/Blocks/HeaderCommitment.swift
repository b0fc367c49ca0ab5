import KramaaPrimitives

/// What a Kramaa block header commits to beyond Ethereum's fields, in its 32-byte `extraData`
/// (so Ethereum clients read the header unchanged): keccak256(historyRoot ‖ validatorsHash).
///
/// - `historyRoot`: the ``HistoryAccumulator`` root of the hashes of every block before this
///   one, so that a certificate for this block anchors all of them;
/// - `validatorsHash`: keccak256(abi.encode(address[])) of the validators that sign the next
///   block, in the validator set contract's order, as CometBFT's NextValidatorsHash: a light
///   client (the checkpoint contract on a parent chain) follows the set through headers
///   certified by the set before each change, and trusts no relayer.
public struct HeaderCommitment: Sendable, Equatable {
    public let historyRoot: Bytes32
    public let validatorsHash: Bytes32

    public init(historyRoot: Bytes32, validatorsHash: Bytes32) {
        self.historyRoot = historyRoot
        self.validatorsHash = validatorsHash
    }

    public init(historyRoot: Bytes32, nextValidators: [Address]) {
        self.init(historyRoot: historyRoot, validatorsHash: Self.validatorsHash(nextValidators))
    }

    public static func validatorsHash(_ validators: [Address]) -> Bytes32 { Keccak256.hash(ABI.encode([.array(validators.map { .address($0) })])) }

    /// The header's `extraData`.
    public var extraData: [UInt8] { Keccak256.hash(historyRoot.bytes + validatorsHash.bytes).bytes }
}
