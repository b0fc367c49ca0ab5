/// Insertion and deletion. Each step takes the node out of its slot (so that a node held only
/// by this trie is uniquely referenced), copies it if shared, edits it, and puts it back.
extension TrieNode {
    /// Stores `value` under `key` in the subtree at nibble depth `depth`; returns the old value.
    mutating func insert(_ value: [UInt8], key: [UInt8], depth: Int) -> [UInt8]? {
        let keyEnd = key.count << 1
        switch self {
        case .empty:
            self = .leaf(LeafNode(path: NibblePath(key, start: depth, end: keyEnd), value: value))
            return nil

        case .leaf(var leaf):
            self = .empty
            makeUnique(&leaf)
            leaf.ref = .none
            let common = leaf.path.commonPrefixLength(with: key)
            if common == leaf.path.count && leaf.path.end == keyEnd {
                let old = leaf.value
                leaf.value = value
                self = .leaf(leaf)
                return old
            }
            // The paths part at `split`: a branch there holds the old leaf and the new key.
            let split = depth + common
            let branch = BranchNode()
            if leaf.path.end == split {
                branch.value = leaf.value
            } else {
                let slot = leaf.path.nibble(at: split)
                leaf.path.start = split + 1
                branch.children[slot] = .leaf(leaf)
            }
            branch.place(value, key: key, at: split)
            self = .prefixed(.branch(branch), key: key, from: depth, to: split)
            return nil

        case .ext(var ext):
            self = .empty
            makeUnique(&ext)
            ext.ref = .none
            let common = ext.path.commonPrefixLength(with: key)
            if common == ext.path.count {
                let old = ext.child.insert(value, key: key, depth: ext.path.end)
                self = .ext(ext)
                return old
            }
            // The key leaves the extension at `split`: a branch there holds the rest of the
            // extension (or its child directly, if one nibble remained) and the new key.
            let split = depth + common
            let branch = BranchNode()
            let slot = ext.path.nibble(at: split)
            if ext.path.end == split + 1 {
                branch.children[slot] = ext.child
            } else {
                ext.path.start = split + 1
                branch.children[slot] = .ext(ext)
            }
            branch.place(value, key: key, at: split)
            self = .prefixed(.branch(branch), key: key, from: depth, to: split)
            return nil

        case .branch(var branch):
            self = .empty
            makeUnique(&branch)
            branch.ref = .none
            let old: [UInt8]?
            if depth == keyEnd {
                old = branch.value
                branch.value = value
            } else {
                old = branch.children[NibblePath.nibble(key, depth)].insert(value, key: key, depth: depth + 1)
            }
            self = .branch(branch)
            return old
        }
    }

    /// `node` behind an extension of nibbles `from..<to` of `key`, or `node` itself if that is empty.
    static func prefixed(_ node: TrieNode, key: [UInt8], from: Int, to: Int) -> TrieNode {
        from == to ? node : .ext(ExtensionNode(path: NibblePath(key, start: from, end: to), child: node))
    }

    /// Removes `key`, which must be present, from the subtree at nibble depth `depth`, and
    /// restores the canonical shape: no branch with a single entry, no extension above a
    /// leaf or another extension.
    mutating func remove(key: [UInt8], depth: Int) {
        switch self {
        case .empty:
            preconditionFailure("remove(key:) needs a key that is present")

        case .leaf:
            self = .empty

        case .ext(var ext):
            self = .empty
            makeUnique(&ext)
            ext.ref = .none
            ext.child.remove(key: key, depth: ext.path.end)
            self = .joined(ext)

        case .branch(var branch):
            self = .empty
            makeUnique(&branch)
            branch.ref = .none
            if depth == key.count << 1 {
                branch.value = nil
            } else {
                branch.children[NibblePath.nibble(key, depth)].remove(key: key, depth: depth + 1)
            }
            self = .collapsed(branch, key: key, depth: depth)
        }
    }

    /// An extension whose child changed: a leaf or extension child absorbs the extension's path.
    static func joined(_ ext: ExtensionNode) -> TrieNode {
        var child = ext.child
        ext.child = .empty
        switch child {
        case .empty:
            return .empty
        case .leaf(var leaf):
            child = .empty
            makeUnique(&leaf)
            leaf.ref = .none
            leaf.path.start = ext.path.start
            return .leaf(leaf)
        case .ext(var inner):
            child = .empty
            makeUnique(&inner)
            inner.ref = .none
            inner.path.start = ext.path.start
            return .ext(inner)
        case .branch:
            ext.child = child
            return .ext(ext)
        }
    }

    /// A branch at `depth` that lost an entry: with one entry left it becomes a leaf or extension.
    static func collapsed(_ branch: BranchNode, key: [UInt8], depth: Int) -> TrieNode {
        guard branch.entryCount == 1 else { return .branch(branch) }
        if let value = branch.value {
            // Only the value is left; `key` shares the first `depth` nibbles with its key.
            return .leaf(LeafNode(path: NibblePath(key, start: depth, end: depth), value: value))
        }
        let slot = branch.children.firstIndex { !$0.isEmpty }!
        var child = branch.children[slot]
        branch.children[slot] = .empty
        switch child {
        case .empty:
            preconditionFailure("unreachable: the slot was found non-empty")
        case .leaf(var leaf):
            child = .empty
            makeUnique(&leaf)
            leaf.ref = .none
            leaf.path.start = depth
            return .leaf(leaf)
        case .ext(var ext):
            child = .empty
            makeUnique(&ext)
            ext.ref = .none
            ext.path.start = depth
            return .ext(ext)
        case .branch:
            return .ext(ExtensionNode(path: NibblePath(child.anyKeyBytes, start: depth, end: depth + 1), child: child))
        }
    }
}

extension BranchNode {
    /// Puts a new key's value in this branch at nibble depth `depth`: as the branch value if the
    /// key ends here, else as a leaf in the slot of its next nibble (which must be empty).
    func place(_ value: [UInt8], key: [UInt8], at depth: Int) {
        let keyEnd = key.count << 1
        if depth == keyEnd {
            self.value = value
        } else {
            children[NibblePath.nibble(key, depth)] = .leaf(LeafNode(path: NibblePath(key, start: depth + 1, end: keyEnd), value: value))
        }
    }
}
