import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import KramaaTestSupport
import Testing

/// The validator set contract, driven by signed transactions in built blocks, as on a chain.
@Suite struct ValidatorSetContractTests {
    typealias F = ChainFixtures
    static let contract = ValidatorSetContract.address
    static let newcomer = Address(word: UInt256(0xabcdef))

    /// A chain whose 4 validators are the fixture keys, with the governance contracts installed.
    static func Chain() -> ContractChain { ContractChain(contracts: .governance, validators: [0, 1, 2, 3]) }

    static func revertReason(_ output: [UInt8]) -> String? { ContractChain.revertReason(output) }

    static let proposeAdd = ValidatorSetContract.Method.proposeAdd.callData([.address(newcomer)])
    static func approve(_ id: UInt64) -> [UInt8] { ValidatorSetContract.Method.approve.callData([.uint(UInt256(id))]) }

    @Test func genesisInstallsTheConfiguredValidators() throws {
        let chain = Self.Chain()
        #expect(try chain.validators(forHeight: 1) == F.addresses)
        #expect(chain.state.code(hash: try #require(chain.state.account(Self.contract)).codeHash) == SystemContracts.marker)
    }

    @Test func aChangeApprovedByMoreThanTwoThirdsTakesEffectTwoBlocksLater() throws {
        let chain = Self.Chain()
        let proposed = chain.mine([(0, Self.contract, Self.proposeAdd)])  // block 1: proposer's own approval, 1 of 4
        #expect(proposed.receipts[0].success)
        var id = ABIDecoder(proposed.outcomes[0].output[...])
        #expect(try id.nextUInt64() == 1)
        #expect(proposed.receipts[0].logs.map(\.topics[0]) == [ValidatorSetContract.Event.proposed, ValidatorSetContract.Event.approved])
        chain.mine([(1, Self.contract, Self.approve(1))])  // block 2: 2 of 4 is not more than two thirds
        #expect(try chain.proposal(1)?.status == .open)
        #expect(try chain.proposal(1)?.approvals == 2)
        let approved = chain.mine([(2, Self.contract, Self.approve(1))])  // block 3: 3 of 4
        #expect(approved.receipts[0].logs.map(\.topics[0]).last == ValidatorSetContract.Event.scheduled)
        #expect(try chain.proposal(1) == .init(validator: Self.newcomer, add: true, status: .executed, approvals: 3))
        // The set of height 4 is still the old one; from height 5 on the newcomer is in.
        #expect(try chain.validators(forHeight: 4) == F.addresses)
        #expect(try chain.validators(forHeight: 5) == F.addresses + [Self.newcomer])
        chain.mine()
        chain.mine()  // block 5
        #expect(try chain.validators(forHeight: 6) == F.addresses + [Self.newcomer])
    }

    @Test func removalNeedsFourOfFiveOnceTheSetHasGrown() throws {
        let chain = Self.Chain()
        chain.mine([(0, Self.contract, Self.proposeAdd)])
        chain.mine([(1, Self.contract, Self.approve(1)), (2, Self.contract, Self.approve(1))])  // executed at block 2, effective at 4
        chain.mine()
        chain.mine()
        // Remove validator 3: with 5 validators, 3 approvals are not enough (9 > 10 is false).
        chain.mine([(0, Self.contract, ValidatorSetContract.Method.proposeRemove.callData([.address(F.addresses[3])]))])
        chain.mine([(1, Self.contract, Self.approve(2)), (2, Self.contract, Self.approve(2))])
        #expect(try chain.proposal(2)?.status == .open)
        chain.mine([(3, Self.contract, Self.approve(2))])  // the leaving validator's approval counts while it is in
        #expect(try chain.proposal(2)?.status == .executed)
        #expect(try chain.validators(forHeight: chain.head.number + 2) == [F.addresses[0], F.addresses[1], F.addresses[2], Self.newcomer])
    }

    @Test func refusalsRevertWithAReasonAndChangeNothing() throws {
        let chain = Self.Chain()
        chain.mine([(0, Self.contract, Self.proposeAdd)])
        chain.mine([(1, Self.contract, Self.approve(1)), (2, Self.contract, Self.approve(1))])  // proposal 1 executed
        chain.mine([(0, Self.contract, ValidatorSetContract.Method.proposeRemove.callData([.address(F.addresses[3])]))])  // proposal 2, open
        let cases: [(key: Int, data: [UInt8], reason: String)] = [
            (3, Self.approve(1), "proposal 1 is no longer open"),
            (0, Self.approve(2), "\(F.addresses[0]) has already approved proposal 2"),
            (1, Self.approve(9), "no proposal 9"),
            (1, Self.proposeAdd, "\(Self.newcomer) is already a validator"),
            (1, ValidatorSetContract.Method.proposeRemove.callData([.address(Address(word: UInt256(0x1234)))]),
             "\(Address(word: UInt256(0x1234))) is not a validator"),
            (1, ValidatorSetContract.Method.proposeAdd.callData([.address(.zero)]), "the zero address cannot be a validator"),
            (1, ValidatorSetContract.Method.validatorsAt.callData([.uint(UInt256(1))]), "validatorsAt answers for the current block and later ones only"),
            (1, ValidatorSetContract.Method.approve.selectorBytes + [1, 2], "invalid arguments: ABI data ends at byte 0 before all arguments were read"),
            (1, ABI.selector("nothing()"), "unknown function of the validator set contract"),
        ]
        for c in cases {
            let storage = chain.storage(Self.contract)
            let block = chain.mine([(c.key, Self.contract, c.data)])
            #expect(!block.receipts[0].success, "\(c.reason)")
            #expect(Self.revertReason(block.outcomes[0].output) == c.reason)
            #expect(block.receipts[0].logs.isEmpty)
            #expect(chain.storage(Self.contract) == storage, "\(c.reason)")
        }
        #expect(try chain.proposal(1)?.approvals == 3)
        #expect(try chain.proposal(2)?.approvals == 1)
        #expect(try chain.proposal(3) == nil)
    }

    @Test func onlyCurrentValidatorsMayProposeOrApprove() throws {
        let chain = Self.Chain()
        // Key 3 becomes the outsider: remove it first.
        chain.mine([(0, Self.contract, ValidatorSetContract.Method.proposeRemove.callData([.address(F.addresses[3])]))])
        chain.mine([(1, Self.contract, Self.approve(1)), (2, Self.contract, Self.approve(1))])
        chain.mine()
        chain.mine()
        #expect(try chain.validators(forHeight: chain.head.number + 1) == Array(F.addresses.prefix(3)))
        let refused = chain.mine([(3, Self.contract, Self.proposeAdd)])
        #expect(Self.revertReason(refused.outcomes[0].output) == "only a current validator may propose a validator change")
        chain.mine([(0, Self.contract, Self.proposeAdd)])
        let notCounted = chain.mine([(3, Self.contract, Self.approve(2))])
        #expect(Self.revertReason(notCounted.outcomes[0].output) == "only a current validator may approve a validator change")
        chain.mine([(1, Self.contract, Self.approve(2))])
        #expect(try chain.proposal(2)?.status == .open, "2 of 3 is exactly two thirds, not more")
        chain.mine([(2, Self.contract, Self.approve(2))])
        #expect(try chain.proposal(2)?.status == .executed)
    }

    @Test func readsWorkFromEVMCodeAndWritesAreRefusedInStaticCalls() throws {
        let chain = Self.Chain()
        let journal = JournaledState(backend: chain.state, codeCache: CodeCache())
        let evm = EVM(state: journal, block: chain.executor.context(chain.head),
                      transaction: TransactionContext(origin: F.addresses[0], gasPrice: .zero),
                      systemContracts: .governance)
        let read = evm.call(Message(kind: .staticCall, caller: F.addresses[0], recipient: Self.contract, codeAddress: Self.contract,
                                    value: .zero, input: ValidatorSetContract.Method.getValidators.callData([]), gas: 100_000, isStatic: true))
        #expect(read.status == .success)
        #expect(read.output == ABI.encode([.array(F.addresses.map(ABIValue.address))]))
        let write = evm.call(Message(kind: .staticCall, caller: F.addresses[0], recipient: Self.contract, codeAddress: Self.contract,
                                     value: .zero, input: Self.proposeAdd, gas: 100_000, isStatic: true))
        #expect(write.status == .revert)
        #expect(Self.revertReason(write.output) == "state change in a static call")
        let delegated = evm.call(Message(kind: .delegateCall, caller: F.addresses[0], recipient: F.addresses[1], codeAddress: Self.contract,
                                         value: .zero, input: ValidatorSetContract.Method.getValidators.callData([]), gas: 100_000, transfersValue: false))
        #expect(delegated.status == .revert)
        let starved = evm.call(Message(kind: .call, caller: F.addresses[0], recipient: Self.contract, codeAddress: Self.contract,
                                       value: .zero, input: Self.proposeAdd, gas: 3_000))
        #expect(starved.status == .failure(.outOfGas))
        #expect(journal.logs.isEmpty)
    }
}

extension ContractChain {
    func validators(forHeight height: UInt64) throws -> [Address] {
        try ValidatorSetContract.validators(forHeight: height, in: SlotReader { self.state.storage(ValidatorSetContract.address, slot: $0) })
    }

    func proposal(_ id: UInt64) throws -> ValidatorSetContract.Proposal? {
        try ValidatorSetContract.proposal(id, in: SlotReader { self.state.storage(ValidatorSetContract.address, slot: $0) })
    }
}
