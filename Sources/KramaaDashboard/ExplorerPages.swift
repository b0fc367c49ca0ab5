import Foundation
import KramaaChain
import KramaaConsensus
import KramaaEVM
import KramaaNode
import KramaaPlatform
import KramaaPrimitives

/// The explorer: home, blocks with their commit certificates, transactions, accounts, validators.
extension Dashboard {
    static let latestCount: UInt64 = 15

    func home() -> Page {
        let head = node.latest
        let first = head.number >= Self.latestCount ? head.number - Self.latestCount + 1 : 0
        let rows = (first...head.number).reversed().compactMap { n -> HTML? in
            guard let block = (try? node.block(number: n)) ?? nil else { return nil }
            return blockRow(block.header, transactions: block.transactions.count)
        }
        let main: HTML = """
            <h1>Chain \(node.chainId)</h1>
            <dl><dt>Head</dt><dd><a id="head" href="/dashboard/blocks/\(head.number)">\(head.number)</a></dd>
            <dt>Head hash</dt><dd class="mono">\(head.hash)</dd><dt>Time</dt><dd>\(Self.time(head.timestamp))</dd>
            <dt>Validators</dt><dd><a href="/dashboard/validators">\(node.validators(forHeight: head.number + 1).count)</a></dd></dl>
            <h2>Latest blocks</h2>
            <div class="scroll"><table><caption class="sr">The latest blocks, newest first</caption>
            <thead><tr><th scope="col">Block</th><th scope="col">Hash</th><th scope="col">Transactions</th><th scope="col">Gas used</th><th scope="col">Time</th></tr></thead>
            <tbody id="blocks">\(rows)</tbody></table></div>
            <p id="live" aria-live="polite"></p>
            """
        return Page(title: "Explorer", main: main, script: Self.liveBlocksScript)
    }

    func blockRow(_ h: BlockHeader, transactions: Int) -> HTML {
        "<tr><td><a href=\"/dashboard/blocks/\(h.number)\">\(h.number)</a></td><td class=\"mono\">\(Self.short(h.hash))</td><td>\(transactions)</td><td>\(h.gasUsed)</td><td>\(Self.time(h.timestamp))</td></tr>"
    }

    /// New blocks over the node's WebSocket (`eth_subscribe` newHeads), added to the table.
    static let liveBlocksScript: HTML = """
        (function(){if(!window.WebSocket)return;var ws;try{ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/');}catch(e){return;}
        ws.onopen=function(){ws.send(JSON.stringify({jsonrpc:'2.0',id:1,method:'eth_subscribe',params:['newHeads']}));};
        ws.onerror=function(){};
        ws.onmessage=function(m){var d=JSON.parse(m.data);if(d.id===1){document.body.setAttribute('data-live','1');return;}if(!d.params||!d.params.result)return;var h=d.params.result;
        var n=parseInt(h.number,16),t=new Date(parseInt(h.timestamp,16)*1000).toISOString().replace('.000Z','Z');
        var a=document.getElementById('head');a.textContent=n;a.href='/dashboard/blocks/'+n;
        var tr=document.createElement('tr');[[n,1],[h.hash.slice(0,10)+'…'+h.hash.slice(-6)],['–'],[parseInt(h.gasUsed,16)],[t]].forEach(function(c){
        var td=document.createElement('td');if(c[1]){var l=document.createElement('a');l.href='/dashboard/blocks/'+c[0];l.textContent=c[0];td.appendChild(l);}else{td.textContent=c[0];}tr.appendChild(td);});
        var b=document.getElementById('blocks');b.insertBefore(tr,b.firstChild);while(b.children.length>40)b.removeChild(b.lastChild);
        document.getElementById('live').textContent='New block '+n;};})();
        """

    func blockPage(_ id: String) -> Page {
        let number: UInt64?
        if let n = UInt64(id) { number = n } else if let hash = try? Bytes32(hex: id) { number = (try? node.number(ofHash: hash)) ?? nil } else {
            return .error(status: 400, title: "Not a block", message: "\(id) is neither a block number nor a block hash.")
        }
        guard let number, let block = (try? node.block(number: number)) ?? nil else {
            return .error(status: 404, title: "Block not found", message: "This chain has no block \(id) (its head is \(node.latest.number)).")
        }
        let h = block.header
        let receipts = (try? node.receipts(number: number)) ?? nil
        let txRows = block.transactions.enumerated().map { i, tx -> HTML in
            let from = receipts.map { $0.senders[i] }
            let ok = receipts.map { $0.receipts[i].success }
            return "<tr><td><a class=\"mono\" href=\"/dashboard/tx/\(tx.hash)\">\(Self.short(tx.hash))</a></td><td>\(from.map(addressLink) ?? "")</td><td>\(tx.to.map(addressLink) ?? "contract creation")</td><td>\(Self.callName(tx))</td><td>\(ok.map { $0 ? "success" : "failed" } ?? "")</td></tr>"
        }
        let txs: HTML = block.transactions.isEmpty ? "<p>No transactions.</p>" : """
            <div class="scroll"><table><thead><tr><th scope="col">Hash</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Call</th><th scope="col">Status</th></tr></thead>
            <tbody>\(txRows)</tbody></table></div>
            """
        let parent: HTML = number > 0 ? "<a href=\"/dashboard/blocks/\(number - 1)\">\(h.parentHash)</a>" : "\(h.parentHash)"
        let next: HTML = number < node.latest.number ? " · <a href=\"/dashboard/blocks/\(number + 1)\">next block</a>" : ""
        let main: HTML = """
            <h1>Block \(number)</h1>
            <dl><dt>Hash</dt><dd class="mono">\(h.hash)</dd><dt>Parent</dt><dd class="mono">\(parent)\(next)</dd>
            <dt>Time</dt><dd>\(Self.time(h.timestamp))</dd><dt>Proposer</dt><dd>\(addressLink(h.coinbase))</dd>
            <dt>Gas used</dt><dd>\(h.gasUsed) of \(h.gasLimit)</dd><dt>Base fee</dt><dd>\(h.baseFeePerGas) wei</dd>
            <dt>State root</dt><dd class="mono">\(h.stateRoot)</dd>\(anchorLines(number))</dl>
            <h2>Commit certificate</h2>\(certificateSection(number))
            <h2>Transactions (\(block.transactions.count))</h2>\(txs)
            """
        return Page(title: "Block \(number)", main: main)
    }

    /// `<dt>Anchored</dt>` lines for a block, when the node watches parent chains.
    func anchorLines(_ number: UInt64) -> HTML {
        HTML.join(anchors(number).map { "<dt>Anchored</dt><dd>\($0)</dd>" })
    }

    /// Who signed the block's commit certificate and which validators of its height did not.
    func certificateSection(_ number: UInt64) -> HTML {
        guard number > 0 else { return "<p>The genesis block needs no votes.</p>" }
        let validators = node.validators(forHeight: number)
        guard let bytes = (try? node.certificate(number: number)) ?? nil else {
            return "<p>No certificate: a single-validator chain seals its blocks without votes (\(validators.count) validator).</p>"
        }
        guard let certificate = try? CommitCertificate(rlp: bytes) else { return "<p class=\"notice\">The stored certificate does not decode.</p>" }
        let signed = Set(certificate.precommits.map(\.validator))
        let rows = validators.map { v -> HTML in
            let tag: HTML = signed.contains(v) ? "<span class=\"tag\">signed</span>" : "<span class=\"tag missing\">missing</span>"
            return "<tr><td>\(addressLink(v))</td><td>\(tag)</td></tr>"
        }
        return """
            <p>Finalised in round \(certificate.round) with \(signed.count) of \(validators.count) validators' precommits (more than two thirds are needed).</p>
            <div class="scroll"><table><thead><tr><th scope="col">Validator</th><th scope="col">Precommit</th></tr></thead><tbody>\(rows)</tbody></table></div>
            """
    }

    func transactionPage(_ id: String) -> Page {
        guard let hash = try? Bytes32(hex: id) else {
            return .error(status: 400, title: "Not a transaction hash", message: "\(id) is not a 32-byte hash (0x and 64 hex digits).")
        }
        let status = (try? node.transactionStatus(hash)) ?? nil
        let pending: HTML = if case .pending? = status { " It is waiting in the pool." } else { "" }
        guard case .included(let number, let index)? = status,
              let block = (try? node.block(number: number)) ?? nil, let stored = (try? node.receipts(number: number)) ?? nil,
              index < block.transactions.count else {
            return .error(status: 404, title: "Transaction not found", message: "No block of this chain holds the transaction \(hash).\(pending)")
        }
        let tx = block.transactions[index], receipt = stored.receipts[index], outcome = stored.outcomes[index]
        let logs = receipt.logs.enumerated().map { i, log -> HTML in
            "<li><p>Log \(i) from \(addressLink(log.address))\(Self.logSummary(log))</p><ol start=\"0\">\(log.topics.map { t -> HTML in "<li class=\"mono\">\(t)</li>" })</ol><p class=\"mono\">data \(Self.hexPreview(log.data))</p></li>"
        }
        let created: HTML = outcome.createdAddress.map { "<dt>Created</dt><dd>\(addressLink($0))</dd>" } ?? .empty
        let main: HTML = """
            <h1>Transaction</h1>
            <dl><dt>Hash</dt><dd class="mono">\(hash)</dd>
            <dt>Status</dt><dd>\(receipt.success ? "success" : "failed")\(receipt.success ? "" : Self.revertReason(outcome.output))</dd>
            <dt>Block</dt><dd><a href="/dashboard/blocks/\(number)">\(number)</a> (index \(index)), final</dd>
            <dt>From</dt><dd>\(addressLink(stored.senders[index]))</dd><dt>To</dt><dd>\(tx.to.map(addressLink) ?? "contract creation")</dd>\(created)
            <dt>Call</dt><dd>\(Self.callName(tx))\(Self.argumentList(tx))</dd><dt>Value</dt><dd>\(Self.ether(tx.value))</dd>
            <dt>Gas used</dt><dd>\(outcome.gasUsed) of \(tx.gasLimit) at \(outcome.effectiveGasPrice) wei</dd>
            <dt>Type</dt><dd>\(tx.type)</dd><dt>Nonce</dt><dd>\(tx.nonce)</dd><dt>Input</dt><dd class="mono">\(Self.hexPreview(tx.data))</dd></dl>
            <h2>Logs (\(receipt.logs.count))</h2>\(receipt.logs.isEmpty ? "<p>None.</p>" : "<ol start=\"0\">\(logs)</ol>" as HTML)
            """
        return Page(title: "Transaction \(Self.short(hash))", main: main)
    }

    func accountPage(_ id: String, slot: String? = nil) -> Page {
        guard let address = try? Address(hex: id) else {
            return .error(status: 400, title: "Not an address", message: "\(id) is not an address (0x and 40 hex digits).")
        }
        let head = node.latest.number
        let (account, codeSize) = (try? node.withState(at: head) { state, _ in
            let account = state.account(address)
            return (account, account.map { state.code(hash: $0.codeHash).count } ?? 0)
        }) ?? (nil, 0)
        let system: HTML = Self.systemContracts.first { $0.address == address }.map { "<dt>System contract</dt><dd>\($0.name)</dd>" } ?? .empty
        let device: HTML = (try? DeviceClient(reader).device(address)).flatMap { d -> HTML? in
            d.registeredAtBlock == 0 ? nil : "<dt>Device of organisation</dt><dd>\(d.organization) (\(d.model), \(d.status.map { "\($0)" } ?? "unknown")): <a href=\"/dashboard/devices/\(address.checksummed)\">its device page</a></dd>"
        } ?? .empty
        let main: HTML = """
            <h1>\(codeSize > 0 ? "Contract" : "Account")</h1>
            <dl><dt>Address</dt><dd class="mono">\(address.checksummed)</dd>\(system)\(device)
            <dt>Balance</dt><dd>\(Self.ether(account?.balance ?? .zero))</dd><dt>Nonce</dt><dd>\(account?.nonce ?? 0)</dd>
            <dt>Code size</dt><dd>\(codeSize) bytes</dd><dt>As of block</dt><dd><a href="/dashboard/blocks/\(head)">\(head)</a></dd></dl>
            <h2>Storage</h2>\(storageRead(address, slot: slot, head: head))
            """
        return Page(title: "Address \(address.checksummed)", main: main)
    }

    /// The validators of the next height, with their precommits over the last blocks.
    /// How many blocks the validators page may count precommits over (`?blocks=`).
    static let maximumVoteWindow: UInt64 = 10_000

    func validatorsPage(blocks: String? = nil) -> Page {
        let head = node.latest.number
        let validators = node.validators(forHeight: head + 1)
        let asked = blocks.flatMap { UInt64($0) }.map { max(1, min($0, Self.maximumVoteWindow)) } ?? 50
        let window: UInt64 = min(head, asked)
        var signedCount: [Address: Int] = [:], certified = 0
        for n in stride(from: head, to: head - window, by: -1) {
            guard let bytes = (try? node.certificate(number: n)) ?? nil, let c = try? CommitCertificate(rlp: bytes) else { continue }
            certified += 1
            for p in c.precommits { signedCount[p.validator, default: 0] += 1 }
        }
        let rows = validators.map { v -> HTML in
            let signed = signedCount[v, default: 0]
            return "<tr><td>\(addressLink(v))</td><td>\(certified == 0 ? "–" : "\(signed) of \(certified)")</td><td>\(certified == 0 ? "–" : "\(certified - signed)")</td></tr>"
        }
        let note: HTML = certified == 0 ? "<p>No certificates among the last blocks (a single-validator chain, or no blocks yet).</p>" : .empty
        // Set changes the governance contract scheduled: from which height, and the set.
        let changes = logs(ValidatorSetContract.address, topic: ValidatorSetContract.Event.scheduled).compactMap { log -> HTML? in
            var d = ABIDecoder(log.log.data[...])
            guard let effective = try? d.nextUInt64(), let set = try? d.nextArray({ d throws(ABIDecodingError) in try d.nextAddress() }) else { return nil }
            return "<tr><td>\(blockLink(log.blockNumber))</td><td>\(effective)</td><td>\(HTML.join(set.map { addressLink($0) }, separator: "<br>"))</td></tr>"
        }
        let history: HTML = changes.isEmpty ? "<p>The set has not changed since genesis.</p>"
            : "<div class=\"scroll\"><table><caption class=\"sr\">Validator set changes</caption><thead><tr><th scope=\"col\">Scheduled in block</th><th scope=\"col\">From height</th><th scope=\"col\">Validators</th></tr></thead><tbody>\(changes)</tbody></table></div>"
        let main: HTML = """
            <h1>Validators</h1><p>\(validators.count) validators for block \(head + 1); precommits over the last \(window) blocks.</p>\(note)
            <form method="get" action="/dashboard/validators"><label for="blocks">Count over the last</label>
            <input id="blocks" name="blocks" size="6" value="\(window)"> blocks (at most \(Self.maximumVoteWindow)) <button type="submit">Count</button></form>
            <div class="scroll"><table><thead><tr><th scope="col">Validator</th><th scope="col">Signed</th><th scope="col">Missed</th></tr></thead><tbody>\(rows)</tbody></table></div>
            <h2>Set changes</h2>\(history)
            """
        return Page(title: "Validators", main: main)
    }

    // MARK: Formatting

    func addressLink(_ a: Address) -> HTML {
        let name: HTML = Self.systemContracts.first { $0.address == a }.map { " (\($0.name))" } ?? .empty
        return "<a class=\"mono\" href=\"/dashboard/address/\(a.checksummed)\">\(a.checksummed)</a>\(name)"
    }

    static func short(_ h: Bytes32) -> String {
        let s = h.description
        return String(s.prefix(10)) + "…" + String(s.suffix(6))
    }

    static func time(_ seconds: UInt64) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func hexPreview(_ bytes: [UInt8], limit: Int = 256) -> String {
        bytes.isEmpty ? "(empty)" : Hex.encode(bytes.prefix(limit)) + (bytes.count > limit ? "… (\(bytes.count) bytes)" : "")
    }

    /// An amount in wei as ether with up to 6 decimals.
    static func ether(_ wei: UInt256) -> String {
        let digits = wei.description
        let padded = String(repeating: "0", count: max(0, 19 - digits.count)) + digits
        let whole = padded.dropLast(18), fraction = padded.suffix(18).prefix(6)
        let trimmed = fraction.reversed().drop { $0 == "0" }.reversed()
        return whole + (trimmed.isEmpty ? "" : "." + String(trimmed)) + " ETH"
    }

    /// The decoded arguments as a list, or nothing.
    static func argumentList(_ tx: Transaction) -> HTML {
        guard let arguments = decodedArguments(tx), !arguments.isEmpty else { return .empty }
        return "<ol>\(arguments.map { a -> HTML in "<li><span class=\"mono\">\(a.type)</span> <span class=\"mono\">\(a.value)</span></li>" })</ol>"
    }

    static func revertReason(_ output: [UInt8]) -> String {
        Opcodes.revertReason(output).map { ": \($0)" } ?? ""
    }

    /// The system contracts by address, for names and decoded calls.
    static let systemContracts: [(address: Address, name: String, methods: [SystemMethod])] = [
        (ValidatorSetContract.address, "validator set", [ValidatorSetContract.Method.proposeAdd, ValidatorSetContract.Method.proposeRemove, ValidatorSetContract.Method.approve]),
        (OrganizationRegistry.address, "organisation registry", [OrganizationRegistry.Method.register, OrganizationRegistry.Method.setRoles]),
        (DeviceRegistry.address, "device registry", [DeviceRegistry.Method.register, DeviceRegistry.Method.setStatus, DeviceRegistry.Method.rotate,
                                                     DeviceRegistry.Method.setAgreementKey, DeviceRegistry.Method.revokeAgreementKey]),
        (AssetRegistry.address, "asset registry", [AssetRegistry.Method.mint, AssetRegistry.Method.transferFrom, AssetRegistry.Method.safeTransfer,
                                                   AssetRegistry.Method.transferCustody, AssetRegistry.Method.setStatus, AssetRegistry.Method.bindDevice,
                                                   AssetRegistry.Method.bindTag, AssetRegistry.Method.approve]),
        (ProvenanceRegistry.address, "provenance (EPCIS)", [ProvenanceRegistry.Method.capture]),
    ]

    /// The system-contract function a transaction calls, if it calls one.
    static func systemMethod(_ tx: Transaction) -> SystemMethod? {
        guard tx.data.count >= 4, let to = tx.to, let contract = systemContracts.first(where: { $0.address == to }) else { return nil }
        let selector = tx.data.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return contract.methods.first { $0.selector == selector }
    }

    /// The called function of a system contract, else of a contract whose ABI the node knows
    /// (``ContractABIs``), by its selector; else the selector, "deploy" or "transfer".
    static func callName(_ tx: Transaction) -> String {
        guard tx.data.count >= 4 else { return tx.to == nil ? "deploy" : "transfer" }
        if tx.to == nil { return "deploy" }
        if let method = systemMethod(tx) { return method.signature }
        if let known = ContractABIs.platform.function(tx.data) { return "\(known.signature) (ABI of \(known.contracts.joined(separator: ", ")))" }
        return Hex.encode(tx.data.prefix(4))
    }

    /// A known call's arguments by their ABI types (static types and `string`/`bytes`), nil when
    /// the function is not known or an argument does not decode.
    static func decodedArguments(_ tx: Transaction) -> [(type: String, value: String)]? {
        let types: [String]
        if let method = systemMethod(tx), let open = method.signature.firstIndex(of: "(") {
            types = method.signature[method.signature.index(after: open)...].dropLast().split(separator: ",").map(String.init)
        } else if tx.to != nil, let known = ContractABIs.platform.function(tx.data) {
            types = known.types
        } else {
            return nil
        }
        var d = ABIDecoder(calldata: tx.data)
        var out: [(type: String, value: String)] = []
        for type in types {
            guard let value = ContractABIs.value(of: type, from: &d) else { return nil }
            out.append((type, value))
        }
        return out
    }

    /// A log's event name and, for events of known ABIs, its arguments by name.
    static func logSummary(_ log: Log) -> HTML {
        let systemName: HTML? = log.topics.first.flatMap { eventNames[$0] }.map { ": <b>\($0)</b>" }
        if let systemName, systemContracts.contains(where: { $0.address == log.address }) { return systemName }
        guard let (event, values) = ContractABIs.platform.decode(topics: log.topics, data: log.data) else { return systemName ?? .empty }
        let arguments = zip(event.arguments, values).map { argument, value -> HTML in
            "<li><span class=\"mono\">\(argument.type)\(argument.indexed ? " indexed" : "")</span> \(argument.name) = <span class=\"mono\">\(value)</span></li>"
        }
        return ": <b>\(event.name)</b> (ABI of \(event.contract))<ul>\(arguments)</ul>"
    }
}

extension Dashboard {
    /// A form to read one storage slot of an account at the head, and the value read (`?slot=`).
    func storageRead(_ address: Address, slot: String?, head: UInt64) -> HTML {
        var answer: HTML = .empty
        if let slot, !slot.isEmpty {
            if let key = (slot.hasPrefix("0x") ? try? UInt256(hex: slot) : try? UInt256(decimal: slot)) {
                let value = (try? node.withState(at: head) { state, _ in state.storage(address, slot: key) }) ?? .zero
                answer = "<p id=\"slot-value\">Slot <span class=\"mono\">\(slot)</span> at block \(head): <span class=\"mono\">\(Bytes32(value))</span></p>"
            } else {
                answer = "<p class=\"notice\" role=\"alert\">\(slot) is not a slot number (decimal, or 0x and hex digits).</p>"
            }
        }
        return """
            <form method="get" action="/dashboard/address/\(address.checksummed)"><label for="slot">Read slot</label>
            <input id="slot" name="slot" placeholder="0 or 0x…" value="\(slot ?? "")"> <button type="submit">Read</button></form>\(answer)
            """
    }
}
