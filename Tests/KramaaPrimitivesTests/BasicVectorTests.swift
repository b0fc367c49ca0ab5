import Foundation
import Testing
import KramaaPrimitives
import KramaaTestSupport

/// `ethereum/BasicTests/genesishashestest.json`: the mainnet genesis header decodes as
/// canonical RLP, re-encodes to the same bytes, and hashes (Keccak-256) to the block hash.
@Suite struct GenesisHashVectorTests {
    @Test func mainnetGenesisHeaderHashesToItsBlockHash() throws {
        let url = try Vectors.folder("ethereum/BasicTests").appendingPathComponent("genesishashestest.json")
        let json = try #require(try Vectors.json(url) as? [String: String])
        let rlp = try Hex.decode(try #require(json["genesis_rlp_hex"]))
        let block = try RLPItem.decode(rlp)
        #expect(block.encoded == rlp)
        guard case .list(let parts) = block, case .list(let header) = parts.first else {
            Issue.record("genesis block is not a list of [header, ...]")
            return
        }
        let headerRLP = RLPItem.list(header).encoded
        #expect(Keccak256.hash(headerRLP).description == "0x" + (json["genesis_hash"] ?? ""))
        guard case .bytes(let stateRoot) = header[3] else { Issue.record("state root is not bytes"); return }
        #expect(Hex.encode(stateRoot, prefix: false) == json["genesis_state_root"])
    }
}

@Suite struct KeccakStreamingTests {
    /// Absorbing in pieces of every size around the 136-byte rate gives the one-shot digest.
    @Test func chunkedUpdatesMatchOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for length in [0, 1, 135, 136, 137, 271, 272, 273, 1000] {
            let message = Array(data.prefix(length))
            let expected = Keccak256.hash(message)
            for chunk in [1, 7, 64, 135, 136, 200] {
                var h = Keccak256()
                var i = 0
                while i < message.count {
                    h.update(message[i..<min(i + chunk, message.count)])
                    i += chunk
                }
                #expect(h.finalize() == expected, "length \(length) chunk \(chunk)")
            }
        }
    }
}
