import KramaaChain
import KramaaEVM
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// Triggers without keepers: conditions checked by the validators at every block, the due
/// calls run as the block's first (system) transactions, metered and paid from the deposit.
/// Keys: 0 = brand admin, 1 = brand device manager, 2 = carrier admin, 3 = outsider.
@Suite struct TriggerTests {
    typealias P = PlatformContractTests
    static let triggers = Triggers.address, orgs = OrganizationRegistry.address
    static let ether = UInt256(1_000_000_000_000_000_000 as UInt64)
    static let moisture = DeviceReading.kind(named: "soil.moisture")

    /// The call a trigger makes in these tests: registering an organisation (founded by the
    /// triggers contract, so its effect is easy to see; a second run with the same name reverts).
    static func createOrganisation(_ name: String) -> [UInt8] { OrganizationRegistry.Method.register.callData([.string(name)]) }

    @discardableResult
    static func register(_ chain: ContractChain, by key: Int = 0, data: [UInt8], gas: UInt64 = 300_000, deadline: UInt64 = 0,
                         device: Address = .zero, threshold: Int64 = 0, above: Bool = true, repeating: Bool = false,
                         deposit: UInt256 = ether) -> ExecutedBlock {
        let call = Triggers.Method.register.callData([
            .address(orgs), .bytes(data), .uint(UInt256(gas)), .uint(UInt256(deadline)), .address(device), .fixedBytes(moisture),
            .uint(DeviceReading(device: device, kind: moisture, value: threshold, observedAt: 0, sequence: 0).value), .bool(above), .bool(repeating),
        ])
        return chain.mine(signed: [chain.transaction(key, to: triggers, value: deposit, data: call)])
    }

    static func trigger(_ chain: ContractChain, _ id: UInt64) throws -> (status: UInt64, deposit: UInt256, runs: UInt64) {
        try P.decode(chain.read(triggers, Triggers.Method.get.callData([.uint(UInt256(id))]))) {
            for _ in 0..<9 { _ = try $0.nextUInt() }
            let deposit = try $0.nextUInt()
            _ = try $0.nextUInt()
            return (try $0.nextUInt64(), deposit, try $0.nextUInt64())
        }
    }

    static func organisations(_ chain: ContractChain) throws -> UInt64 {
        try P.decode(chain.read(orgs, OrganizationRegistry.Method.count.callData([]))) { try $0.nextUInt64() }
    }

    static func ran(_ block: ExecutedBlock) -> [(success: Bool, output: [UInt8])] {
        block.receipts.flatMap(\.logs).filter { $0.topics.first == Triggers.Event.ran }.map { log in
            var d = ABIDecoder(log.data[...])
            let success = (try? d.nextBool()) ?? false
            _ = try? d.nextUInt()
            _ = try? d.nextUInt()
            return (success, (try? d.nextBytes()) ?? [])
        }
    }

    @Test func aDeadlineTriggerRunsOnceInTheBlockThatReachesItAndRefundsItsDeposit() throws {
        let chain = P.withOrganisations()
        let deadline = chain.head.timestamp + 5
        let registered = Self.register(chain, data: Self.createOrganisation("Triggered Co"), deadline: deadline)
        #expect(registered.receipts.first?.success == true)
        let owner = chain.state.account(chain.addresses[0])!.balance
        for _ in 0..<3 { #expect(chain.mine().block.transactions.isEmpty, "not due yet: no system transaction") }
        let due = chain.mine(after: 5)
        #expect(due.block.transactions.map(\.type) == [.system])
        #expect(due.senders == [SystemContracts.systemAddress])
        #expect(Self.ran(due).map(\.success) == [true])
        #expect(try Self.organisations(chain) == 3)
        let founder = try P.decode(chain.read(Self.orgs, OrganizationRegistry.Method.get.callData([.uint(UInt256(3))]))) { d in
            _ = try d.nextString()
            return try d.nextAddress()
        }
        #expect(founder == Self.triggers, "the call comes from the triggers contract")
        let record = try Self.trigger(chain, 1)
        #expect(record.status == UInt64(Triggers.Status.done.rawValue) && record.runs == 1 && record.deposit == .zero)
        let refund = chain.state.account(chain.addresses[0])!.balance &- owner
        #expect(refund > .zero && refund < Self.ether, "the deposit less the run's gas at the base fee")
        #expect(chain.state.account(.zero)!.balance > .zero, "the run's fee went to the coinbase")
        #expect(chain.mine().block.transactions.isEmpty, "it ran once")
    }

    @Test func aValidatorRefusesABlockThatLeavesADueTriggerOutOrAddsOne() throws {
        let builder = ContractChain(contracts: .platform), validator = ContractChain(contracts: .platform)
        #expect(builder.send(0, Self.orgs, Self.createOrganisation("Acme")).success)
        let deadline = builder.head.timestamp + 2
        Self.register(builder, data: Self.createOrganisation("Later Co"), deadline: deadline)
        let due = builder.mine(after: 2).block
        #expect(due.transactions.first?.type == .system)
        for n in 1..<due.header.number { try validator.importBlock(try #require(builder.provider.block(number: n))) }
        // The same block without its system transaction, resealed as a builder would: refused.
        var skipped = due
        skipped.transactions.removeFirst()
        #expect(throws: BlockValidationError.systemTransactionsMismatch(expected: 1)) { try validator.importBlock(skipped) }
        // A system transaction where none is due: refused too.
        var added = try #require(builder.provider.block(number: 1))
        added.transactions.insert(due.transactions[0], at: 0)
        #expect(throws: BlockValidationError.self) { try validator.importBlock(added) }
        try validator.importBlock(due)
        #expect(validator.state.stateRoot == builder.state.stateRoot)
    }

    @Test func aReadingTriggerRunsOnEachNewReadingPastItsThreshold() throws {
        let chain = P.withOrganisations()
        let sensor = SigningKey(generating: .p256)
        #expect(P.registerDevice(chain, sensor.publicKey).success)
        var sequence: UInt64 = 0
        func report(_ value: Int64) -> ExecutedBlock {
            sequence += 1
            let reading = DeviceReading(device: sensor.publicKey.address, kind: Self.moisture, value: value, observedAt: chain.head.timestamp, sequence: sequence)
            let block = chain.mine([(3, DeviceReadings.address, reading.submitCallData(signature: reading.sign(with: sensor, chainId: ContractChain.chainId)))])
            #expect(block.receipts.last?.success == true)
            return block
        }
        _ = report(10)  // already there at registration: does not count
        let registered = Self.register(chain, data: Self.createOrganisation("Dry Soil Co"), device: sensor.publicKey.address, threshold: 30,
                                       above: false, repeating: true)
        #expect(registered.receipts.first?.success == true)
        #expect(chain.mine().block.transactions.isEmpty)
        _ = report(45)  // above 30: nothing
        #expect(chain.mine().block.transactions.isEmpty)
        _ = report(25)  // at or below 30: the next block runs it
        let first = chain.mine()
        #expect(Self.ran(first).map(\.success) == [true])
        #expect(try Self.organisations(chain) == 3)
        #expect(chain.mine().block.transactions.isEmpty, "once per reading")
        _ = report(20)  // runs again (repeating); the same call now reverts: the trigger fails with the reason and ends
        let second = chain.mine()
        #expect(Self.ran(second).map(\.success) == [false])
        #expect(ContractChain.revertReason(Self.ran(second)[0].output) == "an organisation named \"Dry Soil Co\" exists already")
        #expect(try Self.organisations(chain) == 3, "a failed run changes nothing of its target")
        #expect(try Self.trigger(chain, 1).status == UInt64(Triggers.Status.failed.rawValue))
    }

    @Test func badInputIsRefusedWithAReasonAndOnlyTheProtocolRunsTriggers() throws {
        let chain = P.withOrganisations()
        let before = chain.storage(Self.triggers)
        func refusal(_ block: ExecutedBlock) -> String? { ContractChain.revertReason(block.outcomes.first?.output ?? []) }
        #expect(refusal(Self.register(chain, data: [], gas: 1, deadline: chain.head.timestamp + 10)) == "a trigger's gas limit must be 10000 to 2000000")
        let now = chain.head.timestamp + 1  // the next block's time
        #expect(refusal(Self.register(chain, data: [], deadline: now)) == "a deadline trigger needs a deadline after the block's time \(now)")
        #expect(refusal(Self.register(chain, data: [], device: Address(word: UInt256(77)))) == "no device \(Address(word: UInt256(77))) in the device registry")
        #expect(chain.storage(Self.triggers) == before, "refusals change nothing")
        let balance = chain.state.account(chain.addresses[0])!.balance
        Self.register(chain, data: Self.createOrganisation("Never"), deadline: chain.head.timestamp + 100, deposit: Self.ether)
        #expect(chain.state.account(chain.addresses[0])!.balance < balance &- Self.ether, "the deposit is held")
        let run = chain.send(3, Self.triggers, Triggers.Method.run.callData([.uint(.one)]))
        #expect(!run.success && ContractChain.revertReason(run.output) == "triggers are run by the protocol at the start of a block")
        let cancel = Triggers.Method.cancel.callData([.uint(.one)])
        #expect(ContractChain.revertReason(chain.send(3, Self.triggers, cancel).output) == "only trigger 1's owner \(chain.addresses[0]) may cancel it")
        let owner = chain.state.account(chain.addresses[0])!.balance
        #expect(chain.send(0, Self.triggers, cancel).success)
        #expect(chain.state.account(chain.addresses[0])!.balance > owner, "the deposit comes back")
        #expect(try Self.trigger(chain, 1).status == UInt64(Triggers.Status.cancelled.rawValue))
        #expect(chain.mine(after: 200).block.transactions.isEmpty, "a cancelled trigger never runs")
        // The pool refuses system transactions: only validators make them.
        let system = Transaction(type: .system, chainId: ContractChain.chainId, nonce: 9, maxPriorityFeePerGas: .zero, maxFeePerGas: .zero,
                                 gasLimit: 200_000, to: Self.triggers, data: Triggers.Method.run.callData([.uint(.one)]))
        #expect(throws: TxPoolError.systemTransaction) {
            _ = try TxPool.check(system, encodedSize: system.encoded.count, chain: chain.executor.config, config: TxPoolConfig())
        }
        #expect(try Transaction.decode(system.encoded) == system)
    }

    @Test func anUnfundedTriggerWaitsUntilItIsToppedUp() throws {
        let chain = P.withOrganisations()
        Self.register(chain, data: Self.createOrganisation("Funded Later"), deadline: chain.head.timestamp + 2, deposit: .zero)
        #expect(chain.mine(after: 5).block.transactions.isEmpty, "due, but its deposit cannot pay its gas")
        let topUp = chain.mine(signed: [chain.transaction(3, to: Self.triggers, value: Self.ether, data: Triggers.Method.topUp.callData([.uint(.one)]))])
        #expect(topUp.receipts.first?.success == true, "anyone may top a trigger up")
        #expect(Self.ran(chain.mine()).map(\.success) == [true])
    }
}
