import KramaaChain
import KramaaEPCIS
import KramaaEVM
@testable import KramaaPlatform
import KramaaPrimitives
import KramaaState
import KramaaTestSupport
import Testing

/// Captures prepared ahead of execution (`SystemContract.prepare`, in parallel over a block's
/// transactions) run exactly as captures that are not: same blocks, receipts and state.
@Suite struct PreparedCaptureTests {
    typealias P = PlatformContractTests
    typealias C = ProvenanceContractTests

    /// A system contract that runs `inner` but prepares nothing: the reference behaviour.
    struct Unprepared: SystemContract {
        let inner: any SystemContract
        func execute(_ call: SystemCall) throws(SystemCallError) -> [UInt8] { try inner.execute(call) }
    }

    static let unprepared = SystemContracts(SystemContracts.platform.byAddress.mapValues { Unprepared(inner: $0) },
                                            gate: SystemContracts.platform.gate, blockHook: SystemContracts.platform.blockHook)

    /// The brand and carrier organisations, the asset minted: the same chain state either way.
    static func chain(_ contracts: SystemContracts) -> ContractChain {
        let chain = P.withOrganisations(contracts)
        #expect(P.mint(chain).success)
        return chain
    }

    /// Captures of every outcome: several events (aggregation, custody), a duplicate, and
    /// documents refused for their content (not JSON, no events, more events than allowed).
    static let calls: [(key: Int, to: Address, data: [UInt8])] = {
        let packing = """
            {"type": "AggregationEvent", "eventTime": "2026-11-25T08:00:00Z", "eventTimeZoneOffset": "+00:00",
             "parentID": "\(C.pallet)", "childEPCs": ["\(P.epc)"], "action": "ADD", "bizStep": "packing"}
            """
        let inspecting = C.objectEvent([P.epc, "urn:epc:id:sgtin:0614141.107346.2019"], bizStep: "inspecting")
        let tooMany = (0...ProvenanceRegistry.maxEventsPerCapture).map {
            C.objectEvent([P.epc], bizStep: "inspecting", time: "2026-11-25T09:\(String(format: "%02d", $0 % 60)):00Z")
        }
        return [
            (1, C.provenance, C.capture(1, C.document([packing, inspecting].joined(separator: ",")))),
            (2, C.provenance, C.capture(2, C.document(C.objectEvent([C.pallet], bizStep: "receiving", time: "2026-11-25T11:00:00Z")))),
            (1, C.provenance, C.capture(1, C.document(inspecting))),  // recorded already
            (1, C.provenance, C.capture(1, "{\"type\": \"EPCISDocument\"")),
            (1, C.provenance, C.capture(1, C.document(""))),
            (1, C.provenance, C.capture(1, C.document(tooMany.joined(separator: ",")))),
            (1, C.provenance, ProvenanceRegistry.Method.children.callData([.fixedBytes(Bytes32(.zero))])),
        ]
    }()

    @Test func aBlockOfCapturesIsTheSameBlockWithAndWithoutPreparation() throws {
        let prepared = Self.chain(.platform), reference = Self.chain(Self.unprepared)
        let a = prepared.mine(Self.calls), b = reference.mine(Self.calls)
        #expect(a.block.transactions.count == Self.calls.count)
        #expect(a.receipts.map(\.success) == [true, true, false, false, false, false, true])
        #expect(a.block.hash == b.block.hash)  // state, receipts and logs roots, gas used
        #expect(a.outcomes.map(\.output) == b.outcomes.map(\.output))
        #expect(a.outcomes.map(\.gasUsed) == b.outcomes.map(\.gasUsed))

        // A validator that prepares imports the block built without: every root checks out.
        let validator = Self.chain(.platform)
        let imported = try validator.importBlock(b.block)
        #expect(imported.receipts.map(\.logs) == b.receipts.map(\.logs))
        #expect(validator.storage(C.provenance) == reference.storage(C.provenance))
    }

    @Test func aPreparationMadeFromOtherBytesIsNotUsed() throws {
        let chain = Self.chain(.platform)
        let sent = C.document(C.objectEvent([P.epc], bizStep: "inspecting"))
        let other = C.document(C.objectEvent([P.epc], bizStep: "shipping"))
        let mismatched = try #require(ProvenanceRegistry().prepare(C.capture(1, other)))
        let tx = chain.transaction(1, to: C.provenance, data: C.capture(1, sent))
        let transition = StateTransition(block: chain.executor.context(chain.executor.childHeader(of: chain.head, timestamp: chain.head.timestamp + 1, coinbase: .zero)),
                                         precompiles: chain.executor.precompiles, systemContracts: .platform)
        let result = try transition.apply(tx.transaction, sender: tx.sender, to: JournaledState(backend: chain.state, codeCache: CodeCache()),
                                          prepared: mismatched)
        let event = try #require(try EPCISDocument(bytes: Array(sent.utf8)).events.first)
        #expect(result.status == .success)
        #expect(result.logs.first?.topics[1] == EPCISEventHash.digest(of: event))
    }

    /// Preparations run on dispatch's worker threads, not the EVM's large stack: the deepest
    /// document the JSON reader takes is parsed and hashed there as on the executing thread.
    @Test func theDeepestDocumentIsPreparedOnWorkerThreads() throws {
        func deep(_ levels: Int) -> String {
            let nested = String(repeating: #"{"https://example.com/ns/d": "#, count: levels) + "1" + String(repeating: "}", count: levels)
            return C.document(C.objectEvent([P.epc], bizStep: "inspecting").dropLast() + #", "https://example.com/ns/deep": "# + nested + "}")
        }
        let documents = [deep(120), deep(200), C.document(C.objectEvent([P.epc], bizStep: "shipping"))]
        let results = SystemContracts.platform.prepare(documents.map { (C.provenance, C.capture(1, $0)) })
        for (document, result) in zip(documents, results) {
            let capture = try #require(result as? PreparedCapture)
            switch (capture.document, Result { () throws(EPCISDocumentReadError) in try EPCISDocument(bytes: Array(document.utf8)) }) {
            case (.success(let prepared), .success(let parsed)):
                #expect(capture.digests == parsed.events.map { EPCISEventHash.digest(of: $0) })
                #expect(prepared.events.count == parsed.events.count)
            case (.failure(let prepared), .failure(let parsed)):
                #expect(prepared == parsed)
            default:
                Issue.record("prepared and parsed disagree on whether the document reads")
            }
        }
        #expect((results[0] as? PreparedCapture)?.digests != nil, "120 levels are within the reader's depth")
        #expect((results[1] as? PreparedCapture)?.digests == nil, "200 levels are beyond it")
    }

    @Test func preparationsKeepTheirTransactionsOrder() throws {
        let documents = (0..<40).map { C.document(C.objectEvent([P.epc], bizStep: "inspecting", time: "2026-11-25T10:\(String(format: "%02d", $0)):00Z")) }
        var inputs: [(to: Address?, input: [UInt8])] = []
        for (i, document) in documents.enumerated() {
            inputs.append((C.provenance, C.capture(1, document)))
            inputs.append((i % 2 == 0 ? nil : Address.zero, C.capture(1, document)))  // a creation; no system contract
            inputs.append((C.provenance, ProvenanceRegistry.Method.record.callData([.fixedBytes(Bytes32(UInt256(UInt64(i))))])))
        }
        let results = SystemContracts.platform.prepare(inputs)
        #expect(results.count == inputs.count)
        for (i, document) in documents.enumerated() {
            let capture = try #require(results[3 * i] as? PreparedCapture)
            let event = try #require(try EPCISDocument(bytes: Array(document.utf8)).events.first)
            #expect(capture.bytes == Array(document.utf8))
            #expect(capture.digests == [EPCISEventHash.digest(of: event)])
            #expect(results[3 * i + 1] == nil && results[3 * i + 2] == nil)
        }
    }
}
