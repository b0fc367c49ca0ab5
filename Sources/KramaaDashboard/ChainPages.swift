import Foundation
import KramaaChain
import KramaaNode
import KramaaPlatform
import KramaaPrimitives

/// The system contracts' events by name, the pool, and where blocks are anchored.
extension Dashboard {
    /// The system contracts' event topics and their names.
    static let eventNames: [Bytes32: String] = Dictionary([
        (OrganizationRegistry.Event.registered, "OrganizationRegistered"), (OrganizationRegistry.Event.rolesChanged, "MemberRolesChanged"),
        (DeviceRegistry.Event.registered, "DeviceRegistered"), (DeviceRegistry.Event.statusChanged, "DeviceStatusChanged"),
        (DeviceRegistry.Event.keyRotated, "DeviceKeyRotated"), (DeviceRegistry.Event.agreementKeySet, "DeviceAgreementKeySet"),
        (DeviceRegistry.Event.agreementKeyRevoked, "DeviceAgreementKeyRevoked"),
        (AssetRegistry.Event.transfer, "Transfer"), (AssetRegistry.Event.approval, "Approval"), (AssetRegistry.Event.approvalForAll, "ApprovalForAll"),
        (AssetRegistry.Event.minted, "AssetMinted"), (AssetRegistry.Event.custodyChanged, "CustodyChanged"),
        (AssetRegistry.Event.statusChanged, "AssetStatusChanged"), (AssetRegistry.Event.deviceBound, "DeviceBound"), (AssetRegistry.Event.tagBound, "TagBound"),
        (ProvenanceRegistry.Event.recorded, "EPCISEventRecorded"), (ProvenanceRegistry.Event.assetEvent, "AssetEventRecorded"),
        (DeviceReadings.Event.accepted, "ReadingAccepted"),
        (ValidatorSetContract.Event.proposed, "ValidatorChangeProposed"), (ValidatorSetContract.Event.approved, "ValidatorChangeApproved"),
        (ValidatorSetContract.Event.scheduled, "ValidatorSetScheduled"),
    ], uniquingKeysWith: { first, _ in first })

    /// `/dashboard/pool`: the transactions waiting, by sender and nonce (the first 200).
    func poolPage() -> Page {
        let counts = node.poolCounts
        let rows = node.pooledTransactions(limit: 200).map { signed -> HTML in
            let tx = signed.transaction
            return "<tr><td class=\"mono\">\(Self.short(signed.hash))</td><td>\(addressLink(signed.sender))</td><td>\(tx.nonce)</td><td>\(tx.to.map { addressLink($0) } ?? "contract creation")</td><td>\(tx.gasLimit)</td></tr>"
        }
        let main: HTML = """
            <h1>Pool</h1><p>\(counts.pending) pending (can run now), \(counts.queued) queued (waiting for an earlier nonce).</p>
            \(rows.isEmpty ? "<p>The pool is empty.</p>" : "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Hash</th><th scope=\"col\">From</th><th scope=\"col\">Nonce</th><th scope=\"col\">To</th><th scope=\"col\">Gas</th></tr></thead><tbody>\(rows)</tbody></table></div>" as HTML)
            """
        return Page(title: "Pool", main: main)
    }

    /// `/dashboard/anchors`: where the latest blocks are anchored on parent chains (nodes run with
    /// `--anchor-watch` or `--anchor-config` know).
    func anchorsPage() -> Page {
        let head = node.latest.number
        let first = head >= 50 ? head - 49 : 0
        let rows = (first...head).reversed().compactMap { n -> HTML? in
            let lines = anchors(n)
            guard !lines.isEmpty else { return nil }
            return "<tr><td>\(blockLink(n))</td><td>\(HTML.join(lines.map { "\($0)" as HTML }, separator: "<br>"))</td></tr>"
        }
        let main: HTML = """
            <h1>Anchors</h1><p>Where blocks \(first) to \(head) are anchored on parent chains.</p>
            \(rows.isEmpty ? "<p>None of these blocks is anchored yet, or this node watches no parent chain (<code>--anchor-watch</code>).</p>" : "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Block</th><th scope=\"col\">Anchored</th></tr></thead><tbody>\(rows)</tbody></table></div>" as HTML)
            """
        return Page(title: "Anchors", main: main)
    }

    /// `/dashboard/anchor-receipt/{tx}[?log=N | ?event=HASH]`: the transaction's anchor receipt
    /// as a file to keep, which anyone can check against the parent chain alone
    /// (`kramaa anchor verify FILE --parent-rpc URL`).
    func anchorReceiptDownload(_ transaction: String, log: String?, event: String?) async -> Page {
        guard let anchorReceipt else {
            return .error(status: 404, title: "No anchor receipts here", message: "This node watches no parent chain (--anchor-watch), so it cannot build anchor receipts.")
        }
        guard let hash = try? Bytes32(hex: transaction) else {
            return .error(status: 400, title: "Not a transaction hash", message: "\(transaction) is not a 32-byte hex transaction hash.")
        }
        let logIndex = log.flatMap { Int($0) }
        let eventHash = event.flatMap { try? Bytes32(hex: $0) }
        if (log != nil && logIndex == nil) || (event != nil && eventHash == nil) {
            return .error(status: 400, title: "Bad receipt request", message: "log must be a log index and event a 32-byte hex event hash.")
        }
        // Each build blocks a thread on the parents' JSON-RPC: at most a few at once.
        guard receiptBuilds.enter() else {
            return .error(status: 503, title: "Busy", message: "\(ReceiptBuilds.limit) anchor receipts are being built; try again in a few seconds.")
        }
        defer { receiptBuilds.leave() }
        do {
            var page = Page(title: "Anchor receipt", main: .empty)
            page.body = (try await anchorReceipt(hash, logIndex, eventHash), "application/json")
            page.download = "anchor-receipt-\(hash.description.prefix(18)).json"
            return page
        } catch {
            return .error(status: 404, title: "No anchor receipt yet", message: "No receipt for transaction \(hash): \(error)")
        }
    }

    /// Reloads the part of the page with `id` when a new block arrives (the node's WebSocket
    /// `eth_subscribe newHeads`), so an asset's timeline shows new events without a reload.
    static func refreshOnNewBlocks(_ id: String) -> HTML {
        """
        (function(){if(!window.WebSocket||!window.fetch)return;var ws;try{ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/');}catch(e){return;}
        ws.onopen=function(){ws.send(JSON.stringify({jsonrpc:'2.0',id:1,method:'eth_subscribe',params:['newHeads']}));};ws.onerror=function(){};
        ws.onmessage=function(m){var d=JSON.parse(m.data);if(d.id===1){document.body.setAttribute('data-live','1');return;}if(!d.params)return;
        fetch(location.href,{headers:{Accept:'text/html'}}).then(function(r){return r.text();}).then(function(t){var n=new DOMParser().parseFromString(t,'text/html').getElementById('\(id)');var o=document.getElementById('\(id)');if(n&&o&&n.innerHTML!==o.innerHTML){o.innerHTML=n.innerHTML;}}).catch(function(){});};})();
        """
    }
}

/// Anchor receipts being built now, bounded: each holds a thread waiting on parent chains.
final class ReceiptBuilds: @unchecked Sendable {
    static let limit = 2
    private let lock = NSLock()
    private var running = 0

    func enter() -> Bool {
        lock.withLock {
            guard running < Self.limit else { return false }
            running += 1
            return true
        }
    }

    func leave() { lock.withLock { running -= 1 } }
}
