import Foundation
import Testing
import KramaaChain
import KramaaPrimitives
import KramaaTestSupport

@Suite struct TransactionTests {
    static let key = try! Secp256k1.PrivateKey(rawRepresentation: Hex.decode("0x4646464646464646464646464646464646464646464646464646464646464646"))
    static let to = try! Address(hex: "0x3535353535353535353535353535353535353535")

    /// EIP-155's own worked example: nonce 9, 20 gwei, 21000 gas, 1 ether, chain 1.
    @Test func signsTheEIP155Example() throws {
        let tx = Transaction(
            type: .legacy, chainId: 1, nonce: 9, maxFeePerGas: UInt256(20_000_000_000), gasLimit: 21_000,
            to: Self.to, value: UInt256(1_000_000_000_000_000_000)
        ).signed(with: Self.key)
        #expect(tx.signingHash.description == "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53")
        #expect(Hex.encode(tx.encoded) == "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83")
        #expect(try tx.validatedSender(chainId: 1) == Self.key.publicKey.address)
    }

    /// `ethereum/BasicTests/txtest.json`: signing the listed fields with the listed key gives the listed
    /// bytes. Some of these Frontier-era signatures have a high `s`, which EIP-2 refuses since Homestead:
    /// for those we must produce the same `r` with the low `s` (and flipped parity) and refuse theirs.
    @Test func legacyTransactionsMatchBasicTests() throws {
        let url = try Vectors.folder("ethereum/BasicTests").appendingPathComponent("txtest.json")
        let cases = try #require(try Vectors.json(url) as? [[String: Any]])
        #expect(!cases.isEmpty)
        for c in cases {
            let key = try Secp256k1.PrivateKey(rawRepresentation: Hex.decode(try #require(c["key"] as? String)))
            let toHex = try #require(c["to"] as? String)
            let tx = Transaction(
                type: .legacy, chainId: nil, nonce: (c["nonce"] as! NSNumber).uint64Value,
                maxFeePerGas: UInt256((c["gasprice"] as! NSNumber).uint64Value),
                gasLimit: (c["startgas"] as! NSNumber).uint64Value,
                to: toHex.isEmpty ? nil : try Address(hex: toHex),
                value: UInt256((c["value"] as! NSNumber).uint64Value),
                data: try Hex.decode(try #require(c["data"] as? String))
            ).signed(with: key)
            let decoded = try Transaction.decode(Hex.decode(try #require(c["signed"] as? String)))
            let theirs = try #require(decoded.signature)
            if theirs.s <= CancunRules.secp256k1HalfN {
                #expect(Hex.encode(tx.encoded, prefix: false) == c["signed"] as? String)
                #expect(decoded == tx)
                #expect(try decoded.sender() == key.publicKey.address)
            } else {
                let ours = try #require(tx.signature)
                #expect(ours.r == theirs.r)
                #expect(ours.s == CancunRules.secp256k1N &- theirs.s)
                #expect(ours.v == UInt256(55) &- theirs.v)
                #expect(throws: TransactionError.invalidSignatureValues) { try decoded.sender() }
                #expect(try tx.sender() == key.publicKey.address)
            }
        }
    }

    /// Every secp256k1-signed type; device transactions have their own suite (DeviceTransactionTests),
    /// unsigned system transactions theirs (TriggerTests).
    @Test(arguments: TransactionType.allCases.filter { $0 != .device && $0 != .system })
    func everyTypeRoundTripsThroughSignDecodeRecover(_ type: TransactionType) throws {
        let tx = Transaction(
            type: type, chainId: 7, nonce: 3, maxPriorityFeePerGas: 2, maxFeePerGas: 100, gasLimit: 100_000,
            to: Self.to, value: 5, data: [0, 1, 2, 0],
            accessList: type == .legacy ? [] : [AccessListEntry(address: Self.to, storageKeys: [.zero])],
            maxFeePerBlobGas: type == .blob ? 9 : .zero,
            blobVersionedHashes: type == .blob ? [try Bytes32(hex: "0x01" + String(repeating: "ab", count: 31))] : []
        ).signed(with: Self.key)
        let decoded = try Transaction.decode(tx.encoded)
        #expect(decoded == tx)
        #expect(try decoded.validatedSender(chainId: 7) == Self.key.publicKey.address)
        // Typed transactions start with their type byte; legacy ones with an RLP list prefix.
        let first = try #require(decoded.encoded.first)
        #expect(type == .legacy ? first >= 0xc0 : first == type.rawValue)
    }

    @Test func rejectsBadInputWithTypedErrors() throws {
        let good = Transaction(type: .dynamicFee, chainId: 1, nonce: 0, maxPriorityFeePerGas: 1, maxFeePerGas: 2,
                               gasLimit: 21_000, to: Self.to).signed(with: Self.key)
        #expect(throws: TransactionError.empty) { try Transaction.decode([]) }
        #expect(throws: TransactionError.typeNotSupported(0x05)) { try Transaction.decode([0x05, 0xc0]) }
        #expect(throws: TransactionError.wrongFieldCount(type: .dynamicFee, expected: 12, actual: 0)) {
            try Transaction.decode([0x02, 0xc0])
        }
        #expect(throws: TransactionError.invalidChainId(expected: 5, actual: 1)) { try good.validate(chainId: 5) }
        var highS = good
        highS.signature!.s = CancunRules.secp256k1N &- highS.signature!.s
        #expect(throws: TransactionError.invalidSignatureValues) { try highS.validate(chainId: 1) }
        #expect(throws: TransactionError.invalidSignatureValues) { try highS.sender() }
        var lowGas = good
        lowGas.gasLimit = 20_999
        lowGas.sign(with: Self.key)
        #expect(throws: TransactionError.intrinsicGasTooLow(gasLimit: 20_999, intrinsic: 21_000)) { try lowGas.validate(chainId: 1) }
        var tip = good
        tip.maxPriorityFeePerGas = 3
        tip.sign(with: Self.key)
        #expect(throws: TransactionError.priorityFeeGreaterThanMaxFee) { try tip.validate(chainId: 1) }
        var bigInit = Transaction(type: .dynamicFee, chainId: 1, nonce: 0, maxFeePerGas: 1, gasLimit: 10_000_000, to: nil,
                                  data: [UInt8](repeating: 1, count: CancunRules.maxInitCodeSize + 1))
        bigInit.sign(with: Self.key)
        #expect(throws: TransactionError.initcodeTooLarge(size: 49_153, limit: 49_152)) { try bigInit.validate(chainId: 1) }
        #expect(throws: TransactionError.unsigned) {
            try Transaction(chainId: 1, nonce: 0, maxFeePerGas: 1, gasLimit: 21_000, to: nil).sender()
        }
        // A tampered byte changes the recovered sender or fails: never the original signer.
        var raw = good.encoded
        raw[raw.count - 40] ^= 0x01
        if let tampered = try? Transaction.decode(raw), let sender = try? tampered.sender() {
            #expect(sender != Self.key.publicKey.address)
        }
    }

    @Test func intrinsicGasCountsDataCreateAndAccessList() {
        let create = Transaction(chainId: 1, nonce: 0, maxFeePerGas: 1, gasLimit: 0, to: nil, data: [0, 1, 0, 2] + [UInt8](repeating: 0, count: 29))
        // 53000 + 31 zero bytes × 4 + 2 non-zero × 16 + 2 words × 2
        #expect(create.intrinsicGas == 53_000 + 31 * 4 + 2 * 16 + 2 * 2)
        let withList = Transaction(chainId: 1, nonce: 0, maxFeePerGas: 1, gasLimit: 0, to: Self.to,
                                   accessList: [AccessListEntry(address: Self.to, storageKeys: [.zero, .zero])])
        #expect(withList.intrinsicGas == 21_000 + 2_400 + 2 * 1_900)
    }
}
