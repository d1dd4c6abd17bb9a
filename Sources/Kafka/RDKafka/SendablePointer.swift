extension UnsafeMutableRawPointer {
    /// A raw pointer passed between threads.
    ///
    /// `@unchecked Sendable`: it points at a ``ClientContext``, itself `Sendable`, and is only released
    /// once, after the client handle is destroyed.
    struct Sendable: @unchecked Swift.Sendable {
        let pointer: UnsafeMutableRawPointer
        init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
    }
}
