import KramaaPrimitives

/// The interpreter loop: one call frame, from its first instruction to STOP, RETURN, REVERT
/// or an exceptional halt. Stack slots are inline `UInt256` values in one buffer; gas is an
/// `Int64` counter. Constant gas and stack bounds are checked once per basic block (see
/// `AnalyzedCode`); dynamic costs (memory, copies, cold access) by the instructions.
///
/// `Mode` selects one of two compilations of the same loop. `UntracedMode` is the fast path:
/// every `if Mode.traced` below is folded away. `TracedMode` (an `EVMTracer` is set) checks the
/// stack and charges constant gas per instruction instead of per block, as geth does, and hands
/// each instruction to the tracer once its whole cost is known (after the dynamic charges,
/// before any effect), so the tracer sees geth's `gas` and `gasCost`.
extension EVM {
    /// `account` is the recipient's, the account whose storage SLOAD and SSTORE reach.
    // swiftlint:disable:next function_body_length cyclomatic_complexity
    func interpret<Mode: InterpreterMode>(_ msg: Message, code: AnalyzedCode, account: CachedAccount, mode: Mode.Type) -> ExecutionResult {
        let stack = UnsafeMutablePointer<UInt256>.allocate(capacity: Gas.stackLimit)
        defer { stack.deallocate() }
        var memory = Memory()
        /// The stack pointer: one past the top item (a pointer, not an index, so handlers
        /// address items without scaling an index).
        var sp = stack
        var pc = 0
        var gas = msg.gas
        var returnData: [UInt8] = []
        let state = self.state
        let codePtr = code.start
        let blocks = code.blocks
        let codeCount = code.size
        var steps: UInt64 = 0
        defer { instructionsExecuted &+= steps }
        /// The instruction being traced (traced mode only).
        var step = TraceStepRecord()

        /// Hands the current instruction to the tracer, before its effects (traced mode only).
        @inline(__always)
        func traceStep() {
            if Mode.traced {
                traceInstruction(&step, cost: step.gas - gas, error: nil, msg: msg, stack: stack, memory: memory.base, returnData: returnData)
            }
        }

        @inline(__always)
        func halt(_ error: EVMError) -> ExecutionResult {
            if Mode.traced {
                traceInstruction(&step, cost: step.gas - gas, error: error, msg: msg, stack: stack, memory: memory.base, returnData: returnData)
            }
            return ExecutionResult(status: .failure(error), gasLeft: 0)
        }

        /// Charges the block starting at `at` and checks its stack bounds (untraced mode; the
        /// traced mode does both per instruction).
        @inline(__always)
        func enterBlock(_ at: Int) -> EVMError? {
            if Mode.traced { return nil }
            let block = blocks[at]
            steps &+= UInt64(block.instructions)
            gas -= Int64(block.gas)
            if gas < 0 { return .outOfGas }
            let height = sp - stack
            if height < Int(block.required) { return .stackUnderflow }
            if height + Int(block.growth) > Gas.stackLimit { return .stackOverflow }
            return nil
        }

        /// Moves to the next instruction, which starts a block (a JUMPDEST charges itself).
        @inline(__always)
        func enterNextBlock() -> EVMError? {
            pc += 1
            return codePtr[pc] == 0x5b ? nil : enterBlock(pc)
        }

        /// Charges memory expansion to cover [offset, offset+size); false when out of gas.
        @inline(__always)
        func expand(_ offset: UInt256, _ size: UInt256) -> Bool {
            if size.isZero { return true }
            guard offset.fitsInUInt64, size.fitsInUInt64, offset.low64 <= 0xFFFF_FFFF, size.low64 <= 0xFFFF_FFFF else { return false }
            let end = Int(offset.low64 + size.low64)
            if end <= memory.size { return true }
            let cost = Gas.memoryCost(words: Gas.words(Int64(end))) - Gas.memoryCost(words: Int64(memory.size / 32))
            gas -= cost
            if gas < 0 { return false }
            memory.grow(to: end)
            return true
        }

        if codePtr[0] != 0x5b, let error = enterBlock(0) { return halt(error) }
        let handlers = Handler.table
        do {
            while true {
                let op = codePtr[pc]
                if Mode.traced {
                    if tracer?.shouldStop == true { return ExecutionResult(status: .failure(.outOfGas), gasLeft: 0) }
                    steps &+= 1
                    let info = OpcodeTable.entries[Int(op)]
                    step = TraceStepRecord(pc: pc, op: op, gas: gas, sp: sp - stack, memorySize: memory.size)
                    if let error = EVM.stackError(info, sp: sp - stack) {  // geth checks the stack before the gas
                        traceInstruction(&step, cost: info.gas, error: error, msg: msg, stack: stack, memory: memory.base, returnData: returnData)
                        return ExecutionResult(status: .failure(error), gasLeft: 0)
                    }
                    gas -= info.gas
                    if gas < 0 { return halt(.outOfGas) }
                    if !OpcodeTable.hasDynamicGas(op) { traceStep() }
                }
                switch handlers[Int(op)] {
                case .stop:
                    return ExecutionResult(status: .success, gasLeft: gas)
                case .add: sp -= 1; sp[-1] = sp[0] &+ sp[-1]
                case .mul: sp -= 1; sp[-1] = sp[0] &* sp[-1]
                case .sub: sp -= 1; sp[-1] = sp[0] &- sp[-1]
                case .div: sp -= 1; sp[-1] = sp[0].div(sp[-1])
                case .sdiv: sp -= 1; sp[-1] = sp[0].sdiv(sp[-1])
                case .mod: sp -= 1; sp[-1] = sp[0].mod(sp[-1])
                case .smod: sp -= 1; sp[-1] = sp[0].smod(sp[-1])
                case .addmod: sp -= 2; sp[-1] = sp[1].addmod(sp[0], sp[-1])
                case .mulmod: sp -= 2; sp[-1] = sp[1].mulmod(sp[0], sp[-1])
                case .exp:
                    let exponent = sp[-2]
                    gas -= Gas.expByte * Int64(exponent.byteWidthUsed)
                    if gas < 0 { return halt(.outOfGas) }
                    traceStep()
                    sp -= 1
                    sp[-1] = sp[0].power(exponent)
                case .signextend: sp -= 1; sp[-1] = sp[0].signExtend(sp[-1])
                case .lt: sp -= 1; sp[-1] = sp[0] < sp[-1] ? .one : .zero
                case .gt: sp -= 1; sp[-1] = sp[-1] < sp[0] ? .one : .zero
                case .slt: sp -= 1; sp[-1] = sp[0].signedLessThan(sp[-1]) ? .one : .zero
                case .sgt: sp -= 1; sp[-1] = sp[-1].signedLessThan(sp[0]) ? .one : .zero
                case .eq: sp -= 1; sp[-1] = sp[0] == sp[-1] ? .one : .zero
                case .iszero: sp[-1] = sp[-1].isZero ? .one : .zero
                case .and: sp -= 1; sp[-1] = sp[0] & sp[-1]
                case .or: sp -= 1; sp[-1] = sp[0] | sp[-1]
                case .xor: sp -= 1; sp[-1] = sp[0] ^ sp[-1]
                case .not: sp[-1] = ~sp[-1]
                case .byte: sp -= 1; sp[-1] = sp[0].byte(of: sp[-1])
                case .shl: sp -= 1; sp[-1] = sp[0].shl(sp[-1])
                case .shr: sp -= 1; sp[-1] = sp[0].shr(sp[-1])
                case .sar: sp -= 1; sp[-1] = sp[0].sar(sp[-1])
                case .keccak256:
                    let offset = sp[-1], size = sp[-2]
                    if !expand(offset, size) { return halt(.outOfGas) }
                    let n = index(size)
                    gas -= Gas.keccakWord * Gas.words(Int64(n))
                    if gas < 0 { return halt(.outOfGas) }
                    traceStep()
                    sp -= 1
                    let h = n == 0 ? Keccak256.hash([UInt8]()) :
                        Keccak256.hash(UnsafeRawBufferPointer(start: memory.base + index(offset), count: n))
                    sp[-1] = UInt256(h)
                case .address: sp[0] = UInt256(msg.recipient); sp += 1
                case .balance:
                    let a = Address(word: sp[-1])
                    if !chargeAccess(a, &gas) { return halt(.outOfGas) }
                    traceStep()
                    sp[-1] = state.balance(a)
                case .origin: sp[0] = UInt256(transaction.origin); sp += 1
                case .caller: sp[0] = UInt256(msg.caller); sp += 1
                case .callvalue: sp[0] = msg.value; sp += 1
                case .calldataload:
                    sp[-1] = loadWord(msg.input, at: sp[-1])
                case .calldatasize: sp[0] = UInt256(msg.input.count); sp += 1
                case .copy:  // CALLDATACOPY, CODECOPY, RETURNDATACOPY
                    let dest = sp[-1], src = sp[-2], size = sp[-3]
                    sp -= 3
                    if op == 0x3e {
                        let (end, overflow) = src.addingReportingOverflow(size)
                        if overflow || end > UInt256(returnData.count) { return halt(.returnDataOutOfBounds) }
                    }
                    if !expand(dest, size) { return halt(.outOfGas) }
                    gas -= Gas.copyWord * Gas.words(Int64(size.low64))
                    if gas < 0 { return halt(.outOfGas) }
                    traceStep()
                    let source = op == 0x37 ? msg.input : op == 0x39 ? code.bytes : returnData
                    memory.write(source, sourceOffset: src, count: index(size), at: index(dest))
                case .codesize: sp[0] = UInt256(codeCount); sp += 1
                case .gasprice: sp[0] = transaction.gasPrice; sp += 1
                case .extcodesize:
                    let a = Address(word: sp[-1])
                    if !chargeAccess(a, &gas) { return halt(.outOfGas) }
                    traceStep()
                    sp[-1] = UInt256(state.code(a).bytes.count)
                case .extcodecopy:
                    let a = Address(word: sp[-1])
                    let dest = sp[-2], src = sp[-3], size = sp[-4]
                    sp -= 4
                    if !chargeAccess(a, &gas) { return halt(.outOfGas) }
                    if !expand(dest, size) { return halt(.outOfGas) }
                    gas -= Gas.copyWord * Gas.words(Int64(size.low64))
                    if gas < 0 { return halt(.outOfGas) }
                    traceStep()
                    memory.write(state.code(a).bytes, sourceOffset: src, count: index(size), at: index(dest))
                case .returndatasize: sp[0] = UInt256(returnData.count); sp += 1
                case .extcodehash:
                    let a = Address(word: sp[-1])
                    if !chargeAccess(a, &gas) { return halt(.outOfGas) }
                    traceStep()
                    sp[-1] = state.isDead(a) ? .zero : UInt256(state.codeHash(a))
                case .blockhash:
                    let n = sp[-1]
                    var result = UInt256.zero
                    if n.fitsInUInt64, n.low64 < block.number, n.low64 + 256 >= block.number,
                       let h = state.backend.blockHash(n.low64) {
                        result = UInt256(h)
                    }
                    sp[-1] = result
                case .coinbase: sp[0] = UInt256(block.coinbase); sp += 1
                case .timestamp: sp[0] = UInt256(block.timestamp); sp += 1
                case .number: sp[0] = UInt256(block.number); sp += 1
                case .prevrandao: sp[0] = UInt256(block.prevRandao); sp += 1
                case .gaslimit: sp[0] = UInt256(block.gasLimit); sp += 1
                case .chainid: sp[0] = UInt256(block.chainId); sp += 1
                case .selfbalance: sp[0] = state.balance(msg.recipient); sp += 1
                case .basefee: sp[0] = block.baseFee; sp += 1
                case .blobhash:
                    let i = sp[-1]
                    sp[-1] = i.fitsInUInt64 && i.low64 < UInt64(transaction.blobHashes.count)
                        ? UInt256(transaction.blobHashes[Int(i.low64)]) : .zero
                case .blobbasefee: sp[0] = block.blobBaseFee; sp += 1
                case .pop: sp -= 1
                case .mload:
                    let offset = sp[-1]
                    if !expand(offset, 32) { return halt(.outOfGas) }
                    traceStep()
                    sp[-1] = UInt256(bigEndianWordAt: memory.base + index(offset))
                case .mstore:
                    let offset = sp[-1]
                    if !expand(offset, 32) { return halt(.outOfGas) }
                    traceStep()
                    sp[-2].storeBigEndian(to: memory.base + index(offset))
                    sp -= 2
                case .mstore8:
                    let offset = sp[-1]
                    if !expand(offset, 1) { return halt(.outOfGas) }
                    traceStep()
                    memory.base.storeBytes(of: UInt8(truncatingIfNeeded: sp[-2].low64), toByteOffset: index(offset), as: UInt8.self)
                    sp -= 2
                case .sload:
                    let (value, wasCold) = state.load(account, msg.recipient, sp[-1])
                    gas -= wasCold ? Gas.coldSload : Gas.warmAccess
                    if gas < 0 { return halt(.outOfGas) }
                    traceStep()
                    sp[-1] = value
                case .sstore:
                    if msg.isStatic { return halt(.writeInStaticContext) }
                    if gas <= Gas.sstoreSentry {
                        if Mode.traced { traceFailureMessage = "out of gas: not enough gas for reentrancy sentry" }
                        return halt(.outOfGas)
                    }
                    let slot = sp[-1], value = sp[-2]
                    sp -= 2
                    if !chargeSstore(account, msg.recipient, slot, value, &gas) { return halt(.outOfGas) }
                    traceStep()
                    state.setStorage(account, msg.recipient, slot, value)
                    if let error = enterNextBlock() { return halt(error) }
                    continue
                case .jump:
                    let target = sp[-1]
                    sp -= 1
                    if !code.isJumpdest(target) { return halt(.invalidJump) }
                    pc = Int(target.low64)
                    continue
                case .jumpi:
                    let target = sp[-1], condition = sp[-2]
                    sp -= 2
                    if !condition.isZero {
                        if !code.isJumpdest(target) { return halt(.invalidJump) }
                        pc = Int(target.low64)
                        continue
                    }
                    if let error = enterNextBlock() { return halt(error) }
                    continue
                case .pc: sp[0] = UInt256(pc); sp += 1
                case .msize: sp[0] = UInt256(memory.size); sp += 1
                case .gas:
                    sp[0] = UInt256(UInt64(gas)); sp += 1
                    if let error = enterNextBlock() { return halt(error) }
                    continue
                case .jumpdest:
                    if let error = enterBlock(pc) { return halt(error) }
                case .tload:
                    sp[-1] = state.transientStorage(msg.recipient, sp[-1])
                case .tstore:
                    if msg.isStatic { return halt(.writeInStaticContext) }
                    state.setTransientStorage(msg.recipient, sp[-1], sp[-2])
                    sp -= 2
                case .mcopy:
                    let dest = sp[-1], src = sp[-2], size = sp[-3]
                    sp -= 3
                    if !size.isZero {
                        let (srcEnd, o1) = src.addingReportingOverflow(size)
                        let (dstEnd, o2) = dest.addingReportingOverflow(size)
                        if o1 || o2 { return halt(.outOfGas) }
                        if !expand(.zero, Swift.max(srcEnd, dstEnd)) { return halt(.outOfGas) }
                    }
                    gas -= Gas.copyWord * Gas.words(Int64(size.low64))
                    if gas < 0 { return halt(.outOfGas) }
                    traceStep()
                    if !size.isZero {
                        (memory.base + index(dest)).copyMemory(from: memory.base + index(src), byteCount: index(size))
                    }
                case .push0: sp[0] = .zero; sp += 1
                case .pushLimb:  // PUSH1...PUSH8
                    let n = Int(op - 0x5f)
                    sp[0] = AnalyzedCode.limbImmediate(codePtr + pc, count: n)
                    sp += 1
                    pc += n
                case .push:  // PUSH9...PUSH32
                    let n = Int(op - 0x5f)
                    sp[0] = UInt256(pushData: UnsafeRawPointer(codePtr + pc + 1), count: n)
                    sp += 1
                    pc += n
                case .dup:
                    sp[0] = sp[-Int(op - 0x7f)]
                    sp += 1
                case .swap:
                    let other = sp - 1 - Int(op - 0x8f)
                    let top = sp[-1]
                    sp[-1] = other.pointee
                    other.pointee = top
                case .log:  // LOG0...LOG4
                    if msg.isStatic { return halt(.writeInStaticContext) }
                    let topicCount = Int(op - 0xa0)
                    let offset = sp[-1], size = sp[-2]
                    if !expand(offset, size) { return halt(.outOfGas) }
                    gas -= Gas.logTopic * Int64(topicCount) + Gas.logByte * Int64(size.low64)
                    if gas < 0 { return halt(.outOfGas) }
                    traceStep()
                    var topics: [Bytes32] = []
                    topics.reserveCapacity(topicCount)
                    for i in 0..<topicCount { topics.append(sp[-3 - i].bytes32) }
                    sp -= 2 + topicCount
                    let log = Log(address: msg.recipient, topics: topics, data: memory.bytes(index(offset), index(size)))
                    state.addLog(log)
                    if Mode.traced { tracer?.onLog(log) }
                case .create:  // CREATE, CREATE2
                    if msg.isStatic { return halt(.writeInStaticContext) }
                    let value = sp[-1], offset = sp[-2], size = sp[-3]
                    let salt = op == 0xf5 ? sp[-4] : .zero
                    sp -= op == 0xf5 ? 3 : 2
                    if !expand(offset, size) { return halt(.outOfGas) }
                    if size.low64 > UInt64(Gas.maxInitCodeSize) || !size.fitsInUInt64 {
                        if Mode.traced { traceFailureMessage = "out of gas: max initcode size exceeded: size \(size)" }
                        return halt(.outOfGas)
                    }
                    let words = Gas.words(Int64(size.low64))
                    gas -= Gas.initCodeWord * words + (op == 0xf5 ? Gas.keccakWord * words : 0)
                    if gas < 0 { return halt(.outOfGas) }
                    traceStep()
                    let initCode = memory.bytes(index(offset), index(size))
                    let callGas = gas - gas / 64
                    gas -= callGas
                    let result = create(
                        caller: msg.recipient, value: value, initCode: initCode, gas: callGas,
                        salt: op == 0xf5 ? salt : nil, depth: msg.depth + 1)
                    gas += result.gasLeft
                    returnData = result.status == .revert ? result.output : []
                    sp[-1] = result.createdAddress.map { UInt256($0) } ?? .zero
                    if let error = enterNextBlock() { return halt(error) }
                    continue
                case .call:  // CALL, CALLCODE, DELEGATECALL, STATICCALL
                    let hasValue = op == 0xf1 || op == 0xf2
                    let requested = sp[-1]
                    let target = Address(word: sp[-2])
                    let value = hasValue ? sp[-3] : .zero
                    let base = hasValue ? sp - 4 : sp - 3
                    let inOffset = base[0], inSize = base[-1]
                    let outOffset = base[-2], outSize = base[-3]
                    sp = base - 3
                    if op == 0xf1 && msg.isStatic && !value.isZero { return halt(.writeInStaticContext) }
                    if !expand(inOffset, inSize) || !expand(outOffset, outSize) { return halt(.outOfGas) }
                    if !chargeAccess(target, &gas) { return halt(.outOfGas) }
                    if !value.isZero {
                        gas -= Gas.callValue
                        if op == 0xf1 && state.isDead(target) { gas -= Gas.newAccount }
                        if gas < 0 { return halt(.outOfGas) }
                    }
                    let cap = gas - gas / 64
                    var callGas = requested.fitsInUInt64 && requested.low64 < UInt64(cap) ? Int64(requested.low64) : cap
                    gas -= callGas
                    traceStep()  // geth's cost of a call includes the gas it forwards (without the stipend)
                    if !value.isZero { callGas += Gas.callStipend }
                    let input = memory.bytes(index(inOffset), index(inSize))
                    var child: Message
                    switch op {
                    case 0xf1:
                        child = Message(kind: .call, caller: msg.recipient, recipient: target, codeAddress: target,
                                        value: value, input: input, gas: callGas, isStatic: msg.isStatic, depth: msg.depth + 1)
                    case 0xf2:
                        child = Message(kind: .callCode, caller: msg.recipient, recipient: msg.recipient, codeAddress: target,
                                        value: value, input: input, gas: callGas, isStatic: msg.isStatic, depth: msg.depth + 1)
                    case 0xf4:
                        child = Message(kind: .delegateCall, caller: msg.caller, recipient: msg.recipient, codeAddress: target,
                                        value: msg.value, input: input, gas: callGas, isStatic: msg.isStatic,
                                        depth: msg.depth + 1, transfersValue: false)
                    default:
                        child = Message(kind: .staticCall, caller: msg.recipient, recipient: target, codeAddress: target,
                                        value: .zero, input: input, gas: callGas, isStatic: true, depth: msg.depth + 1)
                    }
                    let result = call(child)
                    gas += result.gasLeft
                    returnData = result.output
                    let n = Swift.min(index(outSize), result.output.count)
                    if n > 0 { memory.write(result.output, sourceOffset: .zero, count: n, at: index(outOffset)) }
                    sp[0] = result.status == .success ? .one : .zero
                    sp += 1
                    if let error = enterNextBlock() { return halt(error) }
                    continue
                case .returnOrRevert:  // RETURN, REVERT
                    let offset = sp[-1], size = sp[-2]
                    if !expand(offset, size) { return halt(.outOfGas) }
                    traceStep()
                    let output = memory.bytes(index(offset), index(size))
                    return ExecutionResult(status: op == 0xf3 ? .success : .revert, gasLeft: gas, output: output)
                case .selfdestruct:
                    if msg.isStatic { return halt(.writeInStaticContext) }
                    let beneficiary = Address(word: sp[-1])
                    if state.warm(beneficiary) { gas -= Gas.coldAccountAccess }
                    if !state.balance(msg.recipient).isZero && state.isDead(beneficiary) { gas -= Gas.newAccount }
                    if gas < 0 { return halt(.outOfGas) }
                    traceStep()
                    state.selfDestruct(msg.recipient, beneficiary: beneficiary)
                    return ExecutionResult(status: .success, gasLeft: gas)
                case .invalid:
                    return halt(.invalidOpcode(op))
                }
                pc += 1
            }
        }
    }

    /// A memory offset or size as an index. Meaningful once `expand` accepted the range (both
    /// below 2^32); with a zero size the offset may be any word and is not used, so it is
    /// truncated rather than checked.
    @inline(__always)
    func index(_ value: UInt256) -> Int { Int(truncatingIfNeeded: value.low64) }

    /// EIP-2929: 100 for a warm account, 2600 (and warming it) for a cold one, on top of the
    /// warm cost already in the opcode table. False when out of gas.
    @inline(__always)
    func chargeAccess(_ address: Address, _ gas: inout Int64) -> Bool {
        if state.warm(address) {
            gas -= Gas.coldAccountAccess - Gas.warmAccess
        }
        return gas >= 0
    }

    /// SSTORE gas and refunds: EIP-2200 net metering with EIP-2929 cold slots and EIP-3529 refunds.
    /// Charges and adjusts the refund counter (as geth's gas function does, so a tracer sees the
    /// new refund); the caller writes the slot. False when out of gas.
    func chargeSstore(_ account: CachedAccount, _ address: Address, _ slot: UInt256, _ value: UInt256, _ gas: inout Int64) -> Bool {
        let (current, wasCold) = state.load(account, address, slot)
        var cost: Int64 = wasCold ? Gas.coldSload : 0
        let original = state.originalStorage(account, slot, current: current)
        if current == value {
            cost += Gas.warmAccess
        } else if original == current {
            if original.isZero {
                cost += Gas.sstoreSet
            } else {
                cost += Gas.sstoreReset
                if value.isZero { state.addRefund(Gas.sstoreClearsRefund) }
            }
        } else {
            cost += Gas.warmAccess
            if !original.isZero {
                if current.isZero { state.addRefund(-Gas.sstoreClearsRefund) }
                else if value.isZero { state.addRefund(Gas.sstoreClearsRefund) }
            }
            if original == value {
                state.addRefund(original.isZero ? Gas.sstoreSet - Gas.warmAccess : Gas.sstoreReset - Gas.warmAccess)
            }
        }
        gas -= cost
        return gas >= 0
    }

    /// 32 bytes of `data` from `offset`, zero-padded past the end (CALLDATALOAD).
    @inline(__always)
    func loadWord(_ data: [UInt8], at offset: UInt256) -> UInt256 {
        guard offset.fitsInUInt64, offset.low64 < UInt64(data.count) else { return .zero }
        let start = index(offset)
        return data.withUnsafeBytes { bytes in
            if start + 32 <= bytes.count { return UInt256(bigEndianWordAt: bytes.baseAddress! + start) }
            // The last bytes of the data, then zeros.
            let n = bytes.count - start
            return UInt256(bigEndian: UnsafeRawBufferPointer(rebasing: bytes[start...])) << (8 * (32 - n))
        }
    }
}
