/// Placeholder.
enum FileStorePlaceholder {}
