import KramaaJSON
import KramaaPrimitives

/// A checkpoint on a parent chain that anchors a block (docs/ANCHORING.md): the first checkpoint
/// at or after the block, whose header commits to the block's history.
public struct BlockAnchor: Sendable, Equatable {
    /// The parent chain's label (`py-evm`, `xdc`, …).
    public var chain: String
    public var contract: Address
    /// The anchored block number of the checkpoint (at or after the block).
    public var checkpoint: UInt64
    public var parentBlock: UInt64
    public var parentTransaction: Bytes32
    /// Parent blocks holding it (its own included), when last looked.
    public var confirmations: UInt64

    public init(chain: String, contract: Address, checkpoint: UInt64, parentBlock: UInt64, parentTransaction: Bytes32, confirmations: UInt64) {
        (self.chain, self.contract, self.checkpoint) = (chain, contract, checkpoint)
        (self.parentBlock, self.parentTransaction, self.confirmations) = (parentBlock, parentTransaction, confirmations)
    }

    public var json: JSON {
        ["chain": .string(chain), "contract": .string(contract.checksummed), "checkpoint": .number(JSONNumber(checkpoint)),
         "parentBlock": .number(JSONNumber(parentBlock)), "parentTransaction": .string(parentTransaction.description),
         "confirmations": .number(JSONNumber(confirmations)),
         "summary": .string(summary)]
    }

    /// One line for people: where and how deep the block is anchored.
    public var summary: String {
        "anchored on \(chain) at block \(parentBlock) (checkpoint of block \(checkpoint), \(confirmations) confirmations)"
    }
}

/// What the node knows of its chain's anchors on parent chains (nil: it watches none).
public protocol AnchorDirectory: Sendable {
    /// The anchors of block `number`, one per parent chain that has one.
    func anchors(of number: UInt64) -> [BlockAnchor]
}
