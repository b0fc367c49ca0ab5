import KramaaEVM
import KramaaPrimitives

/// The precompiles the runner installs.
enum StateTestPrecompiles {
    static let table: [Address: PrecompileFunction] = [:]
}
