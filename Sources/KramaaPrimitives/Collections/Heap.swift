/// A binary heap ordered by `areInOrder` (the first element is the one that should come first).
/// Inlinable so that each user gets a specialised copy (the pool's block ordering is hot).
public struct Heap<Element> {
    @usableFromInline var items: [Element] = []
    @usableFromInline let areInOrder: (Element, Element) -> Bool

    @inlinable
    public init(by areInOrder: @escaping (Element, Element) -> Bool) { self.areInOrder = areInOrder }

    @inlinable public var isEmpty: Bool { items.isEmpty }
    @inlinable public var count: Int { items.count }
    /// The element `pop` would return.
    @inlinable public var first: Element? { items.first }

    @inlinable
    public mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard areInOrder(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    @inlinable
    public mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < items.count && areInOrder(items[l], items[best]) { best = l }
            if r < items.count && areInOrder(items[r], items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best)
            i = best
        }
        return top
    }
}

/// Elements due at times (any monotonic unit): the earliest first, equal times in the order
/// they were pushed, so a run that pushes the same things pops them the same way.
public struct TimedQueue<Element> {
    @usableFromInline var heap = Heap<(time: UInt64, sequence: UInt64, element: Element)>(by: {
        $0.time != $1.time ? $0.time < $1.time : $0.sequence < $1.sequence
    })
    @usableFromInline var nextSequence: UInt64 = 0

    @inlinable public init() {}

    @inlinable public var isEmpty: Bool { heap.isEmpty }
    @inlinable public var count: Int { heap.count }
    /// When the earliest element is due.
    @inlinable public var nextTime: UInt64? { heap.first?.time }

    @inlinable
    public mutating func push(_ element: Element, at time: UInt64) {
        heap.push((time, nextSequence, element))
        nextSequence += 1
    }

    @inlinable
    public mutating func pop() -> (time: UInt64, element: Element)? {
        heap.pop().map { ($0.time, $0.element) }
    }
}
