import KramaaFileExchange
import KramaaFiles

/// The block exchange's view of content addressing, from KramaaFiles: a block matches its CID
/// when its multihash verifies (sha2-256, sha2-512, identity), and its links are the codec's
/// (dag-pb links, dag-cbor and dag-json link values; raw blocks have none).
public struct IPLDExchangeCodec: DAGCodec {
    public init() {}

    public func matches(_ cid: [UInt8], _ data: [UInt8]) -> Bool {
        guard let cid = try? CID(bytes: cid) else { return false }
        return (try? cid.verify(data)) != nil
    }

    public func links(of cid: [UInt8], _ data: [UInt8]) -> [[UInt8]]? {
        guard let cid = try? CID(bytes: cid), let links = try? BlockLinks.of(cid, data) else { return nil }
        // Identity CIDs carry their bytes: nothing to fetch.
        return links.filter { $0.multihash.code != Multihash.identity }.map(\.bytes)
    }
}
