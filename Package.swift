// swift-tools-version:6.0
import PackageDescription

// Layers (see docs/ARCHITECTURE.md): dependencies point one way, down; a module's layer is one more
// than the highest it depends on (tools/check_imports.py --layers computes them; tests hold this list to them).
//   8  KramaaBench            kramaa-bench, the benchmark runner
//   8  KramaaCLI              the `kramaa` executable
//   7  KramaaAPI              Ethereum JSON-RPC, the platform REST and EPCIS interfaces over a node
//   7  KramaaFileService      the node's part in file replication: registry allocations followed, DAGs fetched from peers, held reports, heartbeats, repairs
//   7  KramaaMessagingService the node's messaging: the MQTT server with devices authenticated and authorised from the chain
//   7  KramaaValidator        a validator: the consensus driver over the peer network and the node
//   6  KramaaEVMFuzz          kramaa-evmfuzz, random EVM programs against invariants
//   6  KramaaNode             the node: data directory, pool, block production, state history, calls, events; a ChainProvider
//   6  KramaaStateTest        kramaa-statetest, the GeneralStateTests runner
//   5  KramaaEPCISIndex       the index of EPCIS events captured on chain, fed by new blocks
//   5  KramaaEVMHarness       state-test and EVM fixture JSON shared by the EVM tools
//   5  KramaaStorage          ChainStore: SQLite through GRDB (blocks, receipts, indexes, flat state)
//   5  KramaaTags             NFC tag authentication service: encrypted tag key store, SUN/QR verification, /verify and /api/v1/tags
//   5  KramaaTestSupport      test support: vectors, ContractChain, loopback clients
//   4  KramaaAgent            the device agent's core (pure): its configuration, rules as events in and actions out, function calls from signatures
//   4  KramaaChain            transactions, blocks, receipts, execution, pool, ChainProvider, the validator set contract and client
//   4  KramaaConsensusSimCLI  kramaa-consensus-sim
//   3  KramaaConsensusSim     the deterministic consensus simulator
//   3  KramaaPlatform         the platform's system contracts: organisations, devices, assets (ERC-721), provenance, tags, files
//   3  KramaaState            world state in memory with incremental tries, snapshots, history views
//   2  KramaaBroker           the MQTT broker as a pure state machine: sessions, subscriptions, QoS flows, retained, wills, journal port
//   3  KramaaFileCrypto       private files (pure): segmented AES-256-GCM that still opens by range, file keys wrapped with HPKE per reader
//   3  KramaaFileExchange     the block exchange between nodes' file stores (pure): want, blocks, don't-have; DAG fetch across providers
//   3  KramaaMQTTServer       the MQTT server: TCP, TLS and WebSocket listeners (SwiftNIO) around the broker, the session journal file
//   2  KramaaAuth             bearer tokens and the access policy of every write interface
//   2  KramaaConsensus        Tendermint BFT as a pure state machine
//   2  KramaaEPCIS            GS1 EPCIS 2.0 documents: JSON Schema validation, the event model, query filters, capture results
//   2  KramaaEVM              the Cancun interpreter, precompiles, system-contract machinery, contract caller protocols
//   2  KramaaMessaging        device messaging's cryptography (pure): MQTT device tokens, signed and HPKE-sealed envelopes, replay guard, agreement keys
//   2  KramaaNFC              NTAG 424 DNA SUN verification (AN12196 AES, AN12304 LRP), tap classification
//   2  KramaaNetwork          the validators' peer network (TLS 1.3, node keys, frames, gossip)
//   2  KramaaTrie             Merkle Patricia Trie, roots, proofs (EIP-1186)
//   1  KramaaPrimitives       UInt256, Keccak, RLP, hex, Address, signatures, did:key
//   1  KramaaRPC              JSON-RPC 2.0 over HTTP and WebSocket (SwiftNIO), the HTTP router and problem layer; no chain module
//   0  CSecp256k1             the system libsecp256k1 (with its recovery module)
//   0  KramaaGS1              GS1 identifiers: check digits, AIs, element strings, Digital Link, EPC URIs (Foundation-free)
//   0  KramaaMQTT             MQTT 5.0/3.1.1 data representations, framing, topic names and filters (pure)
//   3  KramaaDeviceMessaging  a device's side of messaging: connect as the device, send signed (and sealed) envelopes to inboxes, verify what arrives
//   1  KramaaMQTTClient       an MQTT 5/3.1.1 client (SwiftNIO, TCP and TLS) on KramaaMQTT's codec: QoS flows, sessions resumed across reconnections
//   0  KramaaFiles            content addressing (pure): multiformats, CIDs, dag-pb/dag-cbor/dag-json, UnixFS import, HAMT, CARv1, DAG walks
//   3  KramaaFileStore        the node's block store on disk (durable writes, pins, GC, quota) and the IPFS trustless gateway /ipfs
//   0  KramaaJSON             the JSON value, parser and writer (order-preserving, exact numbers) and Ethereum hex quantities
let package = Package(
    name: "kramaa",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kramaa", targets: ["KramaaCLI"]),
        .executable(name: "kramaa-bench", targets: ["KramaaBench"]),
        .executable(name: "kramaa-statetest", targets: ["KramaaStateTest"]),
        .executable(name: "kramaa-evmfuzz", targets: ["KramaaEVMFuzz"]),
        .executable(name: "kramaa-consensus-sim", targets: ["KramaaConsensusSimCLI"]),
        .library(name: "KramaaPrimitives", targets: ["KramaaPrimitives"]),
        .library(name: "KramaaEVM", targets: ["KramaaEVM"]),
        .library(name: "KramaaChain", targets: ["KramaaChain"]),
        .library(name: "KramaaTrie", targets: ["KramaaTrie"]),
        .library(name: "KramaaRPC", targets: ["KramaaRPC"]),
        .library(name: "KramaaNetwork", targets: ["KramaaNetwork"]),
        .library(name: "KramaaConsensus", targets: ["KramaaConsensus"]),
        .library(name: "KramaaGS1", targets: ["KramaaGS1"]),
        .library(name: "KramaaNFC", targets: ["KramaaNFC"]),
        .library(name: "KramaaPlatform", targets: ["KramaaPlatform"]),
        .library(name: "KramaaEPCIS", targets: ["KramaaEPCIS"]),
        .library(name: "KramaaAuth", targets: ["KramaaAuth"]),
        .library(name: "KramaaEPCISIndex", targets: ["KramaaEPCISIndex"]),
        .library(name: "KramaaMQTT", targets: ["KramaaMQTT"]),
        .library(name: "KramaaBroker", targets: ["KramaaBroker"]),
        .library(name: "KramaaMQTTServer", targets: ["KramaaMQTTServer"]),
        .library(name: "KramaaMessaging", targets: ["KramaaMessaging"]),
        .library(name: "KramaaMQTTClient", targets: ["KramaaMQTTClient"]),
        .library(name: "KramaaDeviceMessaging", targets: ["KramaaDeviceMessaging"]),
        .library(name: "KramaaFileExchange", targets: ["KramaaFileExchange"]),
        .library(name: "KramaaFiles", targets: ["KramaaFiles"]),
        .library(name: "KramaaFileStore", targets: ["KramaaFileStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        .target(
            name: "KramaaPrimitives",
            dependencies: [
                "CSecp256k1",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "KramaaJSON",
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        // GS1 identifiers (pure): check digits, Application Identifiers, element strings, Digital Link
        // URIs (parse, render, compression, the EPCIS hash normaliser) and EPC URIs.
        .target(
            name: "KramaaGS1"
        ),
        // GS1 EPCIS 2.0 (JSON/JSON-LD): a draft-07 JSON Schema validator, the event model with CBV
        // values in one canonical form, the query language as a pure filter, capture job results,
        // and the CBV 2.0 EPCIS Event Hash ID (JSON-LD and XML documents).
        .target(
            name: "KramaaEPCIS",
            dependencies: ["KramaaJSON", "KramaaPrimitives", "KramaaGS1"]
        ),
        .target(
            name: "KramaaTrie",
            dependencies: ["KramaaPrimitives"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        // Pure: NFC tag authentication (NXP NTAG 424 DNA Secure Dynamic Messaging).
        .target(
            name: "KramaaNFC",
            dependencies: [
                "KramaaPrimitives",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "KramaaEVM",
            dependencies: [
                "KramaaPrimitives",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "KramaaChain",
            dependencies: ["KramaaPrimitives", "KramaaEVM", "KramaaTrie", "KramaaState"]
        ),
        .target(
            name: "KramaaPlatform",
            dependencies: ["KramaaPrimitives", "KramaaEVM", "KramaaGS1", "KramaaEPCIS", "KramaaJSON", "KramaaMessaging"]
        ),
        .executableTarget(
            name: "KramaaCLI",
            dependencies: ["KramaaJSON", 
                "KramaaPlatform",
                "KramaaPrimitives",
                "KramaaChain",
                "KramaaEVM",
                "KramaaEVMHarness",
                "KramaaNode",
                "KramaaAPI",
                "KramaaRPC",
                "KramaaNetwork",
                "KramaaValidator",
                "KramaaTags",
                "KramaaNFC",
                "KramaaAuth",
                "KramaaEPCISIndex",
                "KramaaMessaging",
                "KramaaMessagingService",
                "KramaaMQTTServer",
                "KramaaMQTTClient",
                "KramaaMQTT",
                "KramaaDeviceMessaging",
                "KramaaAgent",
                "KramaaFiles",
                "KramaaFileStore",
                "KramaaFileService",
                "KramaaFileCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KramaaState",
            dependencies: ["KramaaPrimitives", "KramaaEVM", "KramaaTrie"]
        ),
        .target(
            name: "KramaaStorage",
            dependencies: [
                "KramaaPrimitives", "KramaaEVM", "KramaaState", "KramaaChain",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "KramaaNode",
            dependencies: ["KramaaPrimitives", "KramaaEVM", "KramaaState", "KramaaChain", "KramaaStorage", "KramaaPlatform"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        // Shared by the tools that run EVM fixtures: state-test JSON (pre, env), message cases
        // and their results (`kramaa evm`, kramaa-statetest, kramaa-evmfuzz).
        .target(
            name: "KramaaEVMHarness",
            dependencies: ["KramaaPrimitives", "KramaaEVM", "KramaaChain", "KramaaState"]
        ),
        .executableTarget(
            name: "KramaaStateTest",
            dependencies: ["KramaaPrimitives", "KramaaEVM", "KramaaChain", "KramaaState", "KramaaEVMHarness"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        // Run as a debug build in the tests: checked arithmetic and bounds turn bugs into traps.
        .executableTarget(
            name: "KramaaEVMFuzz",
            dependencies: ["KramaaPrimitives", "KramaaEVM", "KramaaEVMHarness"]
        ),
        .target(
            name: "KramaaRPC",
            dependencies: [
                "KramaaJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The validators' peer network: TLS 1.3 with identities bound to secp256k1 node keys,
        // framed typed messages, peer management, flood gossip. Knows nothing of blocks or votes.
        .target(
            name: "KramaaNetwork",
            dependencies: [
                "KramaaPrimitives",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Who may write: bearer tokens bound to an account and roles (DATADIR/access-tokens.json,
        // stored hashed, checked in constant time) and the one policy every write interface asks.
        .target(
            name: "KramaaAuth",
            dependencies: ["KramaaPrimitives", "KramaaJSON", "KramaaRPC", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "KramaaAuthTests",
            dependencies: ["KramaaAuth", "KramaaPrimitives", "KramaaRPC"]
        ),
        // MQTT 5.0 and 3.1.1 (pure): data representations, framing, topic names and filters.
        .target(
            name: "KramaaMQTT"
        ),
        .testTarget(
            name: "KramaaMQTTTests",
            dependencies: ["KramaaMQTT"]
        ),
        // The MQTT broker's pure core: sessions (persistent through a journal port), the
        // subscription tree, QoS 1/2 flows, retained messages, wills, shared subscriptions.
        .target(
            name: "KramaaBroker",
            dependencies: ["KramaaMQTT", "KramaaPrimitives"]
        ),
        // The MQTT server's edge: listeners (TCP, TLS, WebSocket with the mqtt subprotocol) on one
        // event loop feeding the broker, and the session journal on disk.
        .target(
            name: "KramaaMQTTServer",
            dependencies: [
                "KramaaBroker", "KramaaMQTT", "KramaaPrimitives", "KramaaNetwork",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "KramaaMQTTServerTests",
            dependencies: ["KramaaMQTTServer", "KramaaBroker", "KramaaMQTT", "KramaaPrimitives",
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        // An MQTT client on the codec (SwiftNIO): enhanced authentication, QoS 0/1/2 with the
        // server's Receive Maximum, subscriptions, keep-alive, sessions resumed across reconnections.
        .target(
            name: "KramaaMQTTClient",
            dependencies: [
                "KramaaMQTT",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // A device's side of messaging (used by `kramaa msg send|listen`): the MQTT client as the
        // device, envelopes signed with a persisted sequence, sealed, verified, replay-checked.
        .target(
            name: "KramaaAgent",
            dependencies: ["KramaaPlatform", "KramaaJSON", "KramaaPrimitives"]
        ),
        .testTarget(
            name: "KramaaAgentTests",
            dependencies: ["KramaaAgent", "KramaaPlatform", "KramaaJSON", "KramaaPrimitives"]
        ),
        .target(
            name: "KramaaDeviceMessaging",
            dependencies: ["KramaaMQTTClient", "KramaaMQTT", "KramaaMessaging", "KramaaPrimitives", "KramaaJSON"]
        ),
        .testTarget(
            name: "KramaaMQTTClientTests",
            dependencies: ["KramaaMQTTClient", "KramaaMQTTServer", "KramaaBroker", "KramaaMQTT", "KramaaPrimitives",
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(
            name: "KramaaBrokerTests",
            dependencies: ["KramaaBroker", "KramaaMQTT", "KramaaPrimitives"]
        ),
        // Device messaging's cryptography (pure, docs/MESSAGING.md): MQTT device tokens and signed
        // challenges, signed envelopes and HPKE-sealed ones (RFC 9180 through swift-crypto), the
        // replay guard, key-agreement keys and their proofs of possession.
        .target(
            name: "KramaaMessaging",
            dependencies: ["KramaaPrimitives", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The node's messaging service: its MQTT server with device tokens and challenges checked
        // against the device registry, the device topic policy, revocation within a block.
        // The block exchange between nodes' file stores as a pure state machine: wants, blocks,
        // don't-haves; a DAG fetched across providers with each block checked against its CID.
        // Private files: segmented AES-256-GCM (ranges open alone) and file keys wrapped with HPKE.
        .target(
            name: "KramaaFileCrypto",
            dependencies: ["KramaaMessaging", "KramaaPrimitives", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "KramaaFileCryptoTests",
            dependencies: ["KramaaFileCrypto", "KramaaMessaging"]
        ),
        .target(
            name: "KramaaFileExchange",
            dependencies: ["KramaaNetwork", "KramaaPrimitives"]
        ),
        .testTarget(
            name: "KramaaFileExchangeTests",
            dependencies: ["KramaaFileExchange", "KramaaNetwork", "KramaaPrimitives"]
        ),
        // The node's part in file replication: allocations followed from the file registry,
        // DAGs fetched from peers, held reports, heartbeats and repairs; blocks served to peers.
        .target(
            name: "KramaaFileService",
            dependencies: ["KramaaFileExchange", "KramaaFiles", "KramaaFileStore", "KramaaNode", "KramaaChain", "KramaaEVM", "KramaaPlatform", "KramaaNetwork",
                           "KramaaPrimitives", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "KramaaFileServiceTests",
            dependencies: ["KramaaFileService", "KramaaFileExchange", "KramaaFiles", "KramaaNode", "KramaaChain", "KramaaEVM", "KramaaPlatform",
                           "KramaaNetwork", "KramaaPrimitives", "KramaaTestSupport"]
        ),
        .target(
            name: "KramaaMessagingService",
            dependencies: ["KramaaMessaging", "KramaaMQTTServer", "KramaaMQTTClient", "KramaaBroker", "KramaaMQTT", "KramaaNode",
                           "KramaaChain", "KramaaPlatform", "KramaaEVM", "KramaaPrimitives", "KramaaRPC", "KramaaJSON",
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "KramaaMessagingServiceTests",
            dependencies: ["KramaaMessagingService", "KramaaBroker", "KramaaPlatform", "KramaaNode", "KramaaPrimitives",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "KramaaMessagingTests",
            dependencies: ["KramaaMessaging", "KramaaPrimitives", "KramaaTestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The node's index of the EPCIS events captured on chain, fed by new blocks through a ChainProvider.
        .target(
            name: "KramaaEPCISIndex",
            dependencies: ["KramaaPrimitives", "KramaaChain", "KramaaEPCIS", "KramaaPlatform"]
        ),
        .testTarget(
            name: "KramaaEPCISIndexTests",
            dependencies: ["KramaaEPCISIndex", "KramaaChain", "KramaaEPCIS", "KramaaPlatform", "KramaaPrimitives", "KramaaTestSupport", "KramaaEVM"]
        ),
        // Content addressing as IPFS does it (pure): multiformats, CIDs, IPLD codecs, UnixFS, CAR.
        .target(
            name: "KramaaFiles",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "KramaaFilesTests",
            dependencies: ["KramaaFiles", "KramaaFileStore", "KramaaRPC", "KramaaAuth", "KramaaJSON", "KramaaTestSupport"]
        ),
        // The node's files: block store on disk, pins, GC, quota, the trustless gateway and the upload API.
        .target(
            name: "KramaaFileStore",
            dependencies: ["KramaaFiles", "KramaaRPC", "KramaaAuth", "KramaaJSON", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The Ethereum JSON-RPC API (eth_*, net_*, web3_*, debug_*) over a node.
        .target(
            name: "KramaaAPI",
            dependencies: ["KramaaJSON", "KramaaPrimitives", "KramaaEVM", "KramaaState", "KramaaChain", "KramaaNode", "KramaaRPC",
                           "KramaaConsensus", "KramaaPlatform", "KramaaGS1", "KramaaEPCIS", "KramaaAuth", "KramaaEPCISIndex", "KramaaMessaging"]
        ),
        .executableTarget(
            name: "KramaaBench",
            dependencies: ["KramaaPlatform", "KramaaPrimitives", "KramaaChain", "KramaaTrie", "KramaaEVM", "KramaaState", "KramaaEVMHarness", "KramaaRPC",
                           "KramaaTestSupport", "KramaaNode", "KramaaAPI", "KramaaValidator", "KramaaNetwork", "KramaaTags", "KramaaNFC", "KramaaEPCIS",
                           "KramaaJSON", "KramaaMQTTClient", "KramaaMQTT"]
        ),
        .target(
            name: "KramaaTestSupport",
            dependencies: ["KramaaPrimitives", "KramaaEVM", "KramaaState", "KramaaChain"],
            path: "Tests/KramaaTestSupport"
        ),
        .testTarget(
            name: "KramaaPrimitivesTests",
            dependencies: [
                "KramaaPrimitives", "KramaaTestSupport",
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "KramaaEVMTests",
            dependencies: [
                "KramaaEVM", "KramaaPrimitives", "KramaaTestSupport", "KramaaEVMHarness", "KramaaState",
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "KramaaChainTests",
            dependencies: ["KramaaEVM", "KramaaChain", "KramaaPrimitives", "KramaaState", "KramaaTrie", "KramaaTestSupport"]
        ),
        .testTarget(
            name: "KramaaNodeTests",
            dependencies: ["KramaaNode", "KramaaChain", "KramaaState", "KramaaStorage", "KramaaPrimitives"]
        ),
        .testTarget(
            name: "KramaaStorageTests",
            dependencies: ["KramaaStorage", "KramaaChain", "KramaaState", "KramaaEVM", "KramaaPrimitives"]
        ),
        .testTarget(
            name: "KramaaStateTests",
            dependencies: ["KramaaState", "KramaaEVM", "KramaaTrie", "KramaaPrimitives"]
        ),
        .testTarget(
            name: "KramaaJSONTests",
            dependencies: ["KramaaJSON", "KramaaPrimitives"]
        ),
        .testTarget(
            name: "KramaaRPCTests",
            dependencies: ["KramaaJSON", 
                "KramaaRPC", "KramaaTestSupport", "KramaaPrimitives",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "KramaaAPITests",
            dependencies: ["KramaaJSON", "KramaaAPI", "KramaaNode", "KramaaChain", "KramaaRPC", "KramaaPrimitives", "KramaaTestSupport"]
        ),
        // The node's tag authentication service: SDM keys sealed at rest (AES-GCM) with durable read
        // counters (GRDB), SUN and signed-QR verification against the asset registry, its HTTP endpoints.
        .target(
            name: "KramaaTags",
            dependencies: [
                "KramaaPrimitives", "KramaaNFC", "KramaaJSON", "KramaaRPC", "KramaaPlatform", "KramaaChain",
                "KramaaEVM", "KramaaGS1", "KramaaAuth",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "KramaaValidatorTests",
            dependencies: ["KramaaValidator", "KramaaNode", "KramaaChain", "KramaaPrimitives", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "KramaaTagsTests",
            dependencies: ["KramaaTags", "KramaaNFC", "KramaaRPC", "KramaaJSON", "KramaaPrimitives", "KramaaTestSupport", "KramaaPlatform", "KramaaAuth"]
        ),
        // A validator: consensus driven by the peer network and the node.
        .target(
            name: "KramaaValidator",
            dependencies: [
                "KramaaPrimitives", "KramaaChain", "KramaaNode", "KramaaConsensus", "KramaaNetwork",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Tendermint BFT as a pure state machine (docs/CONSENSUS.md), its deterministic simulator
        // (a library the tests use) and the simulator's command line.
        .target(
            name: "KramaaConsensus",
            dependencies: ["KramaaPrimitives"]
        ),
        .target(
            name: "KramaaConsensusSim",
            dependencies: ["KramaaConsensus", "KramaaPrimitives"]
        ),
        .executableTarget(
            name: "KramaaConsensusSimCLI",
            dependencies: ["KramaaConsensusSim", "KramaaConsensus", "KramaaPrimitives"]
        ),
        .testTarget(
            name: "KramaaConsensusTests",
            dependencies: ["KramaaConsensus", "KramaaConsensusSim", "KramaaPrimitives", "KramaaTestSupport"]
        ),
        .testTarget(
            name: "KramaaNetworkTests",
            dependencies: [
                "KramaaNetwork", "KramaaPrimitives",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "KramaaPlatformTests",
            dependencies: ["KramaaPlatform", "KramaaChain", "KramaaEVM", "KramaaState", "KramaaPrimitives", "KramaaGS1", "KramaaEPCIS",
                           "KramaaTestSupport", "KramaaMessaging"]
        ),
        .testTarget(
            name: "KramaaGS1Tests",
            dependencies: ["KramaaGS1", "KramaaTestSupport"]
        ),
        .testTarget(
            name: "KramaaNFCTests",
            dependencies: ["KramaaNFC", "KramaaPrimitives", "KramaaTestSupport"]
        ),
        .testTarget(
            name: "KramaaEPCISTests",
            dependencies: ["KramaaPrimitives", "KramaaEPCIS", "KramaaJSON", "KramaaTestSupport"]
        ),
        .testTarget(
            name: "KramaaTrieTests",
            dependencies: ["KramaaTrie", "KramaaPrimitives", "KramaaTestSupport"]
        ),
    ]
)
