import Foundation
import KramaaAPI
import KramaaAuth
import KramaaFileService
import KramaaFileStore
import KramaaFiles
import KramaaNode
import KramaaPrimitives
import KramaaRPC

/// The node's files: its block store, and, when it has a node key (a validator), its part in
/// replication across the consortium (docs/FILES.md): the gateway then serves what any node
/// holds, and the Pinning Service API pins through the file registry.
struct NodeFiles {
    let store: FileStore
    let replicator: FileReplicator?

    struct Settings {
        var quota = FileStore.defaultQuota
        var heartbeatInterval: UInt64 = 60
        var repairInterval: UInt64 = 30
        /// The owner of pins made through `/pins` without `meta.kramaa.organization`.
        var defaultOrganization: UInt64?
    }

    static func open(node: Node, key: Secp256k1.PrivateKey?, settings: Settings) throws -> NodeFiles {
        let store: FileStore
        do { store = try FileStore(dataDirectory: node.dataDirectory.path, quota: settings.quota) } catch {
            throw CLIFailure("cannot open the file store in \(node.dataDirectory.path)/files: \(error)")
        }
        guard let key else { return NodeFiles(store: store, replicator: nil) }
        var configuration = FileReplicator.Configuration()
        configuration.heartbeatInterval = .seconds(Int64(settings.heartbeatInterval))
        configuration.repairInterval = .seconds(Int64(settings.repairInterval))
        let replicator = FileReplicator(node: node, key: key, store: FileStoreReplica(store), codec: IPLDExchangeCodec(), configuration: configuration)
        return NodeFiles(store: store, replicator: replicator)
    }

    /// The gateway `/ipfs`, the node's store API `/api/v1/store` and the Pinning Service API `/pins`.
    /// The gateway's and the pinning API's way to get a DAG this node lacks (nil without replication).
    static func fetcher(_ replicator: FileReplicator?) -> (@Sendable (CID) async throws -> Void)? {
        guard let replicator else { return nil }
        return { cid in
            do { try await replicator.fetch(cid.v1.bytes) } catch FileReplicationError.busy(let running) {
                throw HTTPProblem(status: 503, title: "Busy", detail: "\(FileReplicationError.busy(running))",
                                  headers: [HTTPHeader("retry-after", "1")])
            }
        }
    }

    /// `delegate`: where this node's HTTP port is, as a multiaddr (the Pinning API's `delegates`).
    func mount(into routes: inout HTTPRoutes, api: EthAPI, settings: Settings, delegate: String) throws {
        let fetch = Self.fetcher(replicator)
        routes.mount(GatewayEndpoint.prefix, ReadGatedEndpoint(GatewayEndpoint(store: store, fetchMissing: fetch), access: api.access))
        routes.mount(FilesEndpoints.prefix, ReadGatedEndpoint(FilesEndpoints(store: store, access: api.access), access: api.access))
        let store = self.store
        let pinning = try PinningEndpoints(api: api, dagSize: { bytes in
            let cid = try CID(bytes: bytes)
            var status = try store.status(cid)
            if !status.complete, let fetch {
                try await fetch(cid)
                status = try store.status(cid)
            }
            guard status.complete else {
                throw HTTPProblem.badRequest("this node does not hold all of \(cid) (\(status.missing.count) blocks missing): add it here first (kramaa file add)")
            }
            return status.bytes
        }, defaultOrganization: settings.defaultOrganization, delegates: [delegate])
        routes.mount(PinningEndpoints.path, ReadGatedEndpoint(pinning, access: api.access))
    }
}
