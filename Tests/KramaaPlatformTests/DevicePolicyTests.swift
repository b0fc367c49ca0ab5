import KramaaChain
import KramaaEVM
import KramaaPlatform
import KramaaPrimitives
import KramaaTestSupport
import Testing

/// Device spending policies enforced by the protocol: the gate refuses, in the block, what a
/// device's policy does not allow, and a refused transaction changes nothing.
/// Keys: 0 = brand admin, 1 = brand device manager, 2 = carrier admin, 3 = a device of the brand
/// (its secp256k1 key registered in the device registry, so its ordinary transactions are a
/// device's, as its P-256 or Ed25519 device transactions would be).
@Suite struct DevicePolicyTests {
    typealias P = PlatformContractTests
    static let policies = DevicePolicies.address
    static let target = Address(word: UInt256(0xc0ffee)), token = Address(word: UInt256(0x70ce))
    static let function = ABI.selector("water(uint256)")

    struct Fixture {
        let chain = P.withOrganisations()
        var device: Address { chain.addresses[3] }

        init() {
            #expect(P.registerDevice(chain, SigningKey.secp256k1(chain.keys[3]).publicKey).success)
        }

        /// Sends from the device; returns whether it was included, and the refusal if not.
        @discardableResult
        func attempt(to: Address, value: UInt256 = .zero, data: [UInt8] = [], after seconds: UInt64 = 1) -> (included: Bool, refusal: String?) {
            let built = chain.mine(signed: [chain.transaction(3, to: to, value: value, data: data)], after: seconds)
            return (!built.block.transactions.isEmpty, built.rejected.first.map { $0.error.description })
        }

        func admin(_ call: [UInt8], by key: Int = 0) -> Bool { chain.send(key, policies, call).success }

        func policy() throws -> (revoked: Bool, spent: UInt256, remaining: UInt256) {
            try P.decode(chain.read(policies, DevicePolicies.Method.get.callData([.address(device)]))) {
                _ = try $0.nextBool()
                let revoked = try $0.nextBool()
                for _ in 0..<4 { _ = try $0.nextUInt() }
                return (revoked, try $0.nextUInt(), try $0.nextUInt())
            }
        }

        func setPolicy(native: UInt256, period: UInt64 = 3_600, until: UInt64 = 0, sponsored: Bool = false) -> [UInt8] {
            DevicePolicies.Method.set.callData([.address(device), .uint(native), .uint(UInt256(period)), .uint(UInt256(until)), .bool(sponsored)])
        }

        func allow(_ target: Address, _ selector: [UInt8], _ allowed: Bool = true) -> [UInt8] {
            DevicePolicies.Method.allowCall.callData([.address(device), .address(target), .fixedBytes(DevicePolicies.word(selector)), .bool(allowed)])
        }
    }

    static let ether = UInt256(1_000_000_000_000_000_000 as UInt64)
    static func call(_ selector: [UInt8], _ words: [UInt256]) -> [UInt8] { selector + words.flatMap(\.bigEndianBytes) }

    @Test func aDeviceWithoutAPolicyIsAnOrdinaryAccount() {
        let f = Fixture()
        #expect(f.attempt(to: Self.target, value: Self.ether, data: Self.function).included)
    }

    @Test func onlyTheOrganisationsAdminsSetAPolicyAndARefusalChangesNothing() throws {
        let f = Fixture()
        let before = f.chain.storage(Self.policies)
        let refused = f.chain.send(1, Self.policies, f.setPolicy(native: Self.ether))
        #expect(!refused.success && refused.logs.isEmpty && f.chain.storage(Self.policies) == before)
        #expect(ContractChain.revertReason(refused.output) == "\(f.chain.addresses[1]) needs the admin role in organisation 1")
        #expect(!f.chain.send(2, Self.policies, f.setPolicy(native: Self.ether)).success, "another organisation's admin")
        #expect(f.admin(f.setPolicy(native: Self.ether)))
    }

    @Test func callsOutsideThePolicyAreRefusedWithTheRule() throws {
        let f = Fixture()
        #expect(f.admin(f.setPolicy(native: Self.ether)))
        let refused = f.attempt(to: Self.target, data: Self.function)
        #expect(!refused.included)
        #expect(refused.refusal == "device \(f.device)'s policy does not allow function 0x\(Hex.encode(Self.function, prefix: false)) of \(Self.target); its organisation can allow it with allowDeviceCall")
        #expect(f.admin(f.allow(Self.target, Self.function)))
        #expect(f.attempt(to: Self.target, data: Self.function + [UInt8](repeating: 0, count: 32)).included)
        // Another function of the same contract, a plain transfer, a creation: still refused.
        #expect(f.attempt(to: Self.target, data: ABI.selector("drain()")).refusal?.contains("does not allow function") == true)
        #expect(f.attempt(to: Self.target, value: .one).refusal?.contains("does not allow plain transfers to") == true)
        let create = f.chain.mine(signed: [SignedTransaction(Transaction(type: .dynamicFee, chainId: ContractChain.chainId,
            nonce: f.chain.state.account(f.device)?.nonce ?? 0, maxPriorityFeePerGas: .one, maxFeePerGas: UInt256(10_000_000_000 as UInt64),
            gasLimit: 200_000, to: nil, data: [0x00]).signed(with: f.chain.keys[3]), sender: f.device)])
        #expect(create.rejected.first?.error.description == "device \(f.device)'s policy does not allow it to create contracts")
        // 0xffffffff allows every function of the target; an allowance withdrawn refuses again.
        #expect(f.admin(f.allow(Self.target, DevicePolicies.anyFunction)))
        #expect(f.attempt(to: Self.target, data: ABI.selector("drain()")).included)
        #expect(f.admin(f.allow(Self.target, DevicePolicies.anyFunction, false)) && f.admin(f.allow(Self.target, Self.function, false)))
        #expect(!f.attempt(to: Self.target, data: Self.function).included)
    }

    @Test func nativeSpendingIsLimitedPerPeriodFeesIncluded() throws {
        let f = Fixture()
        #expect(f.admin(f.setPolicy(native: Self.ether)) && f.admin(f.allow(Self.target, DevicePolicies.plainTransfer)))
        let half = Self.ether / UInt256(2)
        let balance = f.chain.state.account(f.device)!.balance
        #expect(f.attempt(to: Self.target, value: half).included)
        let spent = try f.policy().spent
        #expect(spent == balance &- f.chain.state.account(f.device)!.balance, "value and the fees the device paid")
        #expect(spent > half)
        let refused = f.attempt(to: Self.target, value: half)
        #expect(refused.refusal?.hasPrefix("device \(f.device)'s policy allows \(Self.ether) wei of native coin per period; \(Self.ether &- spent) remain") == true)
        #expect(try f.policy().spent == spent, "a refusal spends nothing")
        // The next period (3,600 s of block time later) starts afresh.
        #expect(f.attempt(to: Self.target, value: half, after: 3_600).included)
    }

    @Test func tokenMovesAreLimitedPerPeriodAndTheLimitAllowsTheTokensFunctions() throws {
        let f = Fixture()
        #expect(f.admin(f.setPolicy(native: Self.ether)))
        #expect(f.admin(DevicePolicies.Method.setTokenLimit.callData([.address(f.device), .address(Self.token), .uint(UInt256(100))])))
        let transfer = { (amount: UInt64) in Self.call(ABI.selector("transfer(address,uint256)"), [UInt256(f.chain.addresses[0]), UInt256(amount)]) }
        #expect(f.attempt(to: Self.token, data: transfer(60)).included)
        #expect(f.attempt(to: Self.token, data: transfer(50)).refusal
                == "device \(f.device)'s policy allows 100 of token \(Self.token) per period; 40 remain, this call moves 50")
        let approve = Self.call(ABI.selector("approve(address,uint256)"), [UInt256(f.chain.addresses[0]), UInt256(41)])
        #expect(!f.attempt(to: Self.token, data: approve).included, "approving counts as spending")
        let increase = Self.call(ABI.selector("increaseAllowance(address,uint256)"), [UInt256(f.chain.addresses[0]), UInt256(41)])
        #expect(f.attempt(to: Self.token, data: increase).refusal
                == "device \(f.device)'s policy allows 100 of token \(Self.token) per period; 40 remain, this call moves 41",
                "an increase of an allowance counts as an approval")
        // transferFrom of someone else's tokens (an allowance given to the device) is not the device's spending.
        let others = Self.call(ABI.selector("transferFrom(address,address,uint256)"), [UInt256(f.chain.addresses[2]), UInt256(f.device), UInt256(500)])
        #expect(f.attempt(to: Self.token, data: others).included)
        let limit = try P.decode(f.chain.read(Self.policies, DevicePolicies.Method.getTokenLimit.callData([.address(f.device), .address(Self.token)]))) {
            (try $0.nextUInt(), try $0.nextUInt(), try $0.nextUInt())
        }
        #expect(limit == (UInt256(100), UInt256(60), UInt256(40)))
        #expect(f.attempt(to: Self.token, data: transfer(50), after: 3_600).included)
    }

    @Test func sponsorshipExpiryAndRevocationAreEnforced() throws {
        let f = Fixture()
        #expect(f.admin(f.setPolicy(native: Self.ether, sponsored: true)) && f.admin(f.allow(Self.target, Self.function)))
        #expect(f.attempt(to: Self.target, data: Self.function).refusal
                == "device \(f.device)'s policy requires its fees to be sponsored: send a device transaction with its organisation as sponsor")
        let until = f.chain.head.timestamp + 10
        #expect(f.admin(f.setPolicy(native: Self.ether, until: until)))
        #expect(f.attempt(to: Self.target, data: Self.function).included)
        #expect(f.attempt(to: Self.target, data: Self.function, after: 20).refusal
                == "device \(f.device)'s policy expired at \(until) (unix seconds); its organisation must renew it")
        #expect(f.admin(f.setPolicy(native: Self.ether)))
        #expect(f.admin(DevicePolicies.Method.revoke.callData([.address(f.device)])))
        #expect(try f.policy().revoked)
        #expect(f.attempt(to: Self.target, data: Self.function).refusal
                == "device \(f.device)'s policy was revoked by its organisation: it may send nothing until a new policy is set")
        #expect(f.admin(f.setPolicy(native: Self.ether)))
        #expect(f.attempt(to: Self.target, data: Self.function).included, "the call rules survive a revocation")
    }

    @Test func aSuspendedOrRevokedDeviceSendsNothingEvenWithoutAPolicy() {
        let f = Fixture()
        let status = { (code: UInt64) in DeviceRegistry.Method.setStatus.callData([.address(f.device), .uint(UInt256(code))]) }
        #expect(f.chain.send(1, DeviceRegistry.address, status(2)).success)
        #expect(f.attempt(to: Self.target).refusal == "device \(f.device) is suspended: its organisation must reactivate it before it sends transactions")
        #expect(f.chain.send(1, DeviceRegistry.address, status(1)).success)
        #expect(f.attempt(to: Self.target).included)
        #expect(f.chain.send(1, DeviceRegistry.address, status(3)).success)
        let balance = f.chain.state.account(f.device)!.balance
        #expect(f.attempt(to: Self.target, value: .one).refusal == "device \(f.device) is revoked: its keys can no longer send transactions")
        #expect(f.chain.state.account(f.device)!.balance == balance, "nothing paid")
    }

    @Test func thePoolRefusesWhatTheBlockWouldWithTheSameReason() throws {
        let f = Fixture()
        #expect(f.admin(f.setPolicy(native: Self.ether)))
        let pool = TxPool(chain: f.chain.executor.config)
        pool.gate = f.chain.executor.systemContracts.gate
        let tx = f.chain.transaction(3, to: Self.target, data: Self.function)
        #expect(throws: TxPoolError.refused(GateRefusal(
            "device \(f.device)'s policy does not allow function 0x\(Hex.encode(Self.function, prefix: false)) of \(Self.target); its organisation can allow it with allowDeviceCall"))) {
            try pool.add(checked: tx, encodedSize: tx.transaction.encoded.count, state: f.chain.state, head: f.chain.head)
        }
        #expect(pool.count == 0)
        #expect(f.admin(f.allow(Self.target, Self.function)))
        let allowed = f.chain.transaction(3, to: Self.target, data: Self.function)
        try pool.add(checked: allowed, encodedSize: allowed.transaction.encoded.count, state: f.chain.state, head: f.chain.head)
        #expect(pool.count == 1)
    }

    @Test func aWholePolicyIsPutAtOnceAndReadBack() throws {
        let f = Fixture()
        #expect(f.admin(f.setPolicy(native: Self.ether)) && f.admin(f.allow(Self.target, ABI.selector("old()"))))
        let put = { (targets: [Address], selectors: [[UInt8]], tokens: [Address], limits: [UInt64]) in
            DevicePolicies.Method.put.callData([
                .address(f.device), .uint(Self.ether), .uint(UInt256(60)), .uint(.zero), .bool(false),
                .array(targets.map { .address($0) }), .array(selectors.map { .fixedBytes(DevicePolicies.word($0)) }),
                .array(tokens.map { .address($0) }), .array(limits.map { .uint(UInt256($0)) }),
            ])
        }
        #expect(f.admin(put([Self.target, Self.token], [Self.function, DevicePolicies.plainTransfer], [Self.token], [500])))
        let rules = try P.decode(f.chain.read(Self.policies, DevicePolicies.Method.getCallRules.callData([.address(f.device)]))) {
            (try $0.nextArray { d throws(ABIDecodingError) in try d.nextAddress() }, try $0.nextArray { d throws(ABIDecodingError) in Array(try d.nextBytes32().bytes.prefix(4)) })
        }
        #expect(rules.0 == [Self.target, Self.token] && rules.1 == [Self.function, DevicePolicies.plainTransfer], "the earlier rule is replaced")
        #expect(!f.attempt(to: Self.target, data: ABI.selector("old()")).included)
        #expect(f.attempt(to: Self.target, data: Self.function).included)
        let tokens = try P.decode(f.chain.read(Self.policies, DevicePolicies.Method.getTokens.callData([.address(f.device)]))) {
            (try $0.nextArray { d throws(ABIDecodingError) in try d.nextAddress() }, try $0.nextArray { d throws(ABIDecodingError) in try d.nextUInt() })
        }
        #expect(tokens.0 == [Self.token] && tokens.1 == [UInt256(500)])
        // Bad input: mismatched lists, a zero limit, too many rules: refused, nothing changed.
        let before = f.chain.storage(Self.policies)
        for (data, reason) in [
            (put([Self.target], [], [], []), "1 targets but 0 selectors: give one selector per target"),
            (put([], [], [Self.token], [0]), "a token's limit must be above zero (leave the token out to allow none of it)"),
            (put(Array(repeating: Self.target, count: 65), (0..<65).map { [0, 0, 1, UInt8($0)] }, [], []),
             "a device's policy holds at most 64 call rules; allow a contract's every function (0xffffffff) instead"),
        ] {
            let refused = f.chain.send(0, Self.policies, data)
            #expect(!refused.success && ContractChain.revertReason(refused.output) == reason)
            #expect(f.chain.storage(Self.policies) == before, "\(reason)")
        }
    }
}
