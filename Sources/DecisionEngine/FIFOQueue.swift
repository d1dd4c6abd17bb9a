/// A first-in, first-out queue over one array: elements leave from the front by advancing a start index,
/// and the dead prefix is dropped once it outweighs the live part, so appends and removals stay amortised
/// O(1). The order of the decision ids and of the dead-lettered offsets a partition keeps.
struct FIFOQueue<Element> {
    private var storage: [Element] = []
    private var start = 0

    init() {}

    /// A queue holding `elements`, oldest first.
    init(_ elements: [Element]) { storage = elements }

    var first: Element? { start < storage.count ? storage[start] : nil }

    var count: Int { storage.count - start }

    /// The elements queued, oldest first.
    var elements: ArraySlice<Element> { storage[start...] }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func removeFirst() -> Element? {
        guard start < storage.count else { return nil }
        let element = storage[start]
        start += 1
        if start > 1024 && start * 2 > storage.count {
            storage.removeFirst(start)
            start = 0
        }
        return element
    }
}

extension FIFOQueue: Sendable where Element: Sendable {}

/// Two queues are equal when they hold the same elements in the same order, wherever their storage starts.
extension FIFOQueue: Equatable where Element: Equatable {
    static func == (lhs: Self, rhs: Self) -> Bool { lhs.elements.elementsEqual(rhs.elements) }
}
