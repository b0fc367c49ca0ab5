import KramaaChain
import KramaaEVM
import KramaaPrimitives
import KramaaState
import Testing

/// Device transactions (type 0x4b) in blocks and the pool: who pays what, what the EVM sees,
/// refusals for missing funds, nonce order and replacement, import on another node.
@Suite struct DeviceTransactionExecutionTests {
    typealias F = ChainFixtures
    static let p256 = SigningKey.p256(try! Secp256r1.PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 31) + [7]))
    static let ed25519 = SigningKey.ed25519(try! Ed25519.PrivateKey(rawRepresentation: [UInt8](repeating: 9, count: 32)))
    static let sponsorKey = F.keys[2]
    static var sponsor: Address { sponsorKey.publicKey.address }
    static let coinbase = Address(word: UInt256(0xc0))
    static let recipient = Address(word: UInt256(0xbeef))
    /// CALLER PUSH1 0 SSTORE ORIGIN PUSH1 1 SSTORE STOP: stores msg.sender in slot 0, tx.origin in slot 1.
    static let recorder = Address(word: UInt256(0xc0de))
    static let recorderCode: [UInt8] = [0x33, 0x60, 0x00, 0x55, 0x32, 0x60, 0x01, 0x55, 0x00]
    static let tip = UInt256(1_000_000_000), feeCap = UInt256(10_000_000_000)

    /// The fixtures' genesis plus the recorder contract and `deviceFunds` for each device.
    static func genesis(deviceFunds: UInt256 = .zero) -> Genesis {
        var g = F.genesis()
        g.alloc[recorder] = Genesis.Allocation(code: recorderCode)
        if !deviceFunds.isZero {
            for key in [p256, ed25519] { g.alloc[key.publicKey.address] = Genesis.Allocation(balance: deviceFunds) }
        }
        return g
    }

    static func device(_ key: SigningKey, nonce: UInt64 = 0, to: Address = recorder, value: UInt64 = 0, gas: UInt64 = 100_000,
                       tip: UInt256 = tip, sponsor sponsorKey: Secp256k1.PrivateKey? = sponsorKey) throws -> Transaction {
        let tx = try Transaction.device(
            publicKey: key.publicKey, chainId: F.chainId, nonce: nonce, maxPriorityFeePerGas: tip, maxFeePerGas: feeCap,
            gasLimit: gas, to: to, value: UInt256(value), sponsor: sponsorKey?.publicKey.address
        ).signedAsDevice(with: key)
        return try sponsorKey.map { try tx.sponsored(with: $0) } ?? tx
    }

    /// Builds one block on a fresh chain from `txs`, each sender recovered as a node does.
    static func build(_ txs: [Transaction], genesis: Genesis = genesis()) throws -> (ExecutedBlock, InMemoryState, BlockHeader) {
        let (state, head) = F.chain(genesis)
        let executor = BlockExecutor(config: genesis.config)
        let candidates = try txs.map { SignedTransaction($0, sender: try $0.validatedSender(chainId: F.chainId)) }
        let header = executor.childHeader(of: head, timestamp: 10, coinbase: coinbase)
        return (executor.build(header, candidates: candidates, state: state), state, head)
    }

    @Test(arguments: [p256, ed25519])
    func aSponsoredDeviceWithoutFundsRunsAndTheSponsorPaysExactly(_ key: SigningKey) throws {
        let tx = try Self.device(key)
        let (built, state, _) = try Self.build([tx])
        #expect(built.rejected.isEmpty && built.block.transactions == [tx])
        let deviceAddress = key.publicKey.address
        #expect(built.senders == [deviceAddress])
        // 21,000 + the key's surcharge + 3,000 for the sponsor, then CALLER, PUSH1, a cold SSTORE
        // of a new slot (22,100), ORIGIN, PUSH1, another one.
        let gasUsed = 21_000 + key.devicePublicKeyType.verificationGas + 3_000 + 2 * (2 + 3 + 22_100)
        #expect(built.receipts[0].cumulativeGasUsed == gasUsed && built.receipts[0].success)
        #expect(built.receipts[0].type == .device)
        #expect(try Receipt.decode(built.receipts[0].encoded) == built.receipts[0])
        let baseFee = built.block.header.baseFeePerGas
        let price = min(Self.feeCap, baseFee &+ Self.tip)
        #expect(built.outcomes[0].effectiveGasPrice == price)
        #expect(state.account(Self.sponsor)?.balance == F.funds &- UInt256(gasUsed) &* price)
        #expect(state.account(Self.sponsor)?.nonce == 0)
        #expect(state.account(deviceAddress)?.balance ?? .zero == .zero)
        #expect(state.account(deviceAddress)?.nonce == 1)
        #expect(state.account(Self.coinbase)?.balance == UInt256(gasUsed) &* (price &- baseFee))
        // The EVM saw the device as msg.sender and as tx.origin.
        #expect(state.storage(Self.recorder, slot: .zero) == UInt256(deviceAddress))
        #expect(state.storage(Self.recorder, slot: .one) == UInt256(deviceAddress))
    }

    @Test func aSponsoredDevicePaysTheValueAndAnUnsponsoredOneEverything() throws {
        let funds = UInt256(5_000_000_000_000_000)  // 0.005 ether
        let sponsored = try Self.device(Self.p256, to: Self.recipient, value: 600, gas: 30_000)
        let alone = try Self.device(Self.ed25519, to: Self.recipient, value: 400, gas: 30_000, sponsor: nil)
        let (built, state, _) = try Self.build([sponsored, alone], genesis: Self.genesis(deviceFunds: funds))
        #expect(built.rejected.isEmpty && built.block.transactions.count == 2)
        let price = min(Self.feeCap, built.block.header.baseFeePerGas &+ Self.tip)
        let sponsoredUsed: UInt64 = 21_000 + 3_450 + 3_000, aloneUsed: UInt64 = 21_000 + 2_000
        let sponsoredGas = UInt256(sponsoredUsed), aloneGas = UInt256(aloneUsed)
        #expect(built.outcomes.map(\.gasUsed) == [sponsoredUsed, aloneUsed])
        #expect(state.account(Self.p256.publicKey.address)?.balance == funds &- UInt256(600))
        #expect(state.account(Self.sponsor)?.balance == F.funds &- sponsoredGas &* price)
        #expect(state.account(Self.ed25519.publicKey.address)?.balance == funds &- UInt256(400) &- aloneGas &* price)
        #expect(state.account(Self.recipient)?.balance == UInt256(1_000))
    }

    @Test func missingFundsAreRefusedNamingWhoLacksThem() throws {
        let poorSponsor = try Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 0x55, count: 32))
        let gasCost = UInt256(100_000) &* Self.feeCap
        let cases: [(Transaction, InvalidTransactionError, TxPoolError)] = [
            (try Self.device(Self.p256, sponsor: poorSponsor),
             .sponsorInsufficientFunds(sponsor: poorSponsor.publicKey.address, have: .zero, want: gasCost),
             .sponsorInsufficientFunds(sponsor: poorSponsor.publicKey.address, have: .zero, want: gasCost)),
            (try Self.device(Self.p256, sponsor: nil), .insufficientFunds(have: .zero, want: gasCost),
             .insufficientFunds(have: .zero, want: gasCost)),
            (try Self.device(Self.ed25519, to: Self.recipient, value: 1), .insufficientFunds(have: .zero, want: .one),
             .insufficientFunds(have: .zero, want: .one)),
        ]
        for (tx, blockError, poolError) in cases {
            let (built, state, head) = try Self.build([tx])
            #expect(built.block.transactions.isEmpty)
            #expect(built.rejected.map(\.error) == [blockError])
            #expect(state.account(Self.sponsor)?.balance == F.funds)
            let pool = TxPool(chain: Self.genesis().config)
            #expect(throws: poolError) { try pool.add(tx, encodedSize: tx.encoded.count, state: state, head: head) }
            #expect(!poolError.description.isEmpty && !blockError.description.isEmpty)
        }
    }

    @Test func thePoolOrdersADevicesNoncesAndReplacesByPrice() throws {
        let (state, head) = F.chain(Self.genesis())
        let pool = TxPool(chain: Self.genesis().config)
        let device = Self.p256.publicKey.address
        let second = try Self.device(Self.p256, nonce: 1), first = try Self.device(Self.p256, nonce: 0)
        try pool.add(second, encodedSize: second.encoded.count, state: state, head: head)
        #expect(pool.counts(state: state) == (pending: 0, queued: 1))
        try pool.add(first, encodedSize: first.encoded.count, state: state, head: head)
        #expect(pool.pending(state: state, baseFee: head.baseFeePerGas).map(\.transaction.nonce) == [0, 1])
        #expect(pool.nextNonce(device, state: state) == 2)
        let same = try Self.device(Self.p256, nonce: 0)  // another P-256 signature: another hash, same price
        #expect(same.hash != first.hash)
        #expect(throws: TxPoolError.replacementUnderpriced) { try pool.add(same, encodedSize: 200, state: state, head: head) }
        let bumped = try Self.device(Self.p256, nonce: 0, tip: UInt256(1_100_000_000))
        #expect(throws: TxPoolError.replacementUnderpriced) { try pool.add(bumped, encodedSize: 200, state: state, head: head) }
        let bumpedFee = try Transaction.device(
            publicKey: Self.p256.publicKey, chainId: F.chainId, nonce: 0, maxPriorityFeePerGas: UInt256(1_100_000_000),
            maxFeePerGas: UInt256(11_000_000_000), gasLimit: 100_000, to: Self.recorder, sponsor: Self.sponsor
        ).signedAsDevice(with: Self.p256).sponsored(with: Self.sponsorKey)
        #expect(try pool.add(bumpedFee, encodedSize: 200, state: state, head: head) == first.hash)
    }

    @Test func thePoolsCheckVerifiesTheDeviceSignatureOnce() throws {
        let tx = try Self.device(Self.ed25519)
        let checked = try TxPool.check(tx, encodedSize: tx.encoded.count, chain: Self.genesis().config, config: TxPoolConfig())
        #expect(checked.sender == Self.ed25519.publicKey.address && checked.hash == tx.hash)
        var tampered = tx
        tampered.device!.signature[0] ^= 0x80
        #expect(throws: TxPoolError.invalid(.device(.invalidSignature))) {
            try TxPool.check(tampered, encodedSize: 200, chain: Self.genesis().config, config: TxPoolConfig())
        }
        #expect(TxPoolError.invalid(.device(.invalidSignature)).description.contains("invalid device signature"))
    }

    @Test func anotherNodeImportsTheBlockWithTheSameRoots() throws {
        let txs = [try Self.device(Self.p256), try Self.device(Self.ed25519), try Self.device(Self.p256, nonce: 1, sponsor: nil)]
        let genesis = Self.genesis(deviceFunds: UInt256(10_000_000_000_000_000))
        let (built, _, _) = try Self.build(txs, genesis: genesis)
        #expect(built.block.transactions.count == 3)
        let decoded = try Block.decode(built.block.encoded)
        let (other, parent) = F.chain(genesis)
        let senders = try decoded.transactions.map { try $0.validatedSender(chainId: F.chainId) }
        let imported = try BlockExecutor(config: genesis.config).execute(decoded, senders: senders, parent: parent, state: other)
        #expect(imported.receipts == built.receipts)
        #expect(other.stateRoot == built.block.header.stateRoot)
    }
}

extension SigningKey {
    /// The device key type of a P-256 or Ed25519 key (test helper).
    var devicePublicKeyType: DeviceKeyType { DeviceKeyType(type)! }
}
