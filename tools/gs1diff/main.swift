// The KramaaGS1 side of tools/gs1diff: answers the same lines as ref.c (V<TAB>uri validates a link and
// prints its AIs; E<TAB>(01)… renders element-string data as a link).
// Reads the same lines as ref.c and answers with KramaaGS1.
while let line = readLine() {
    let op = line.first!
    let input = String(line.dropFirst(2))
    if op == "V" {
        do {
            let link = try DigitalLink.parse(input)
            print("OK\t\(link.elementString.bracketed)")
        } catch { print("ERR\t\(error)") }
    } else {
        do {
            let es = try GS1ElementString.parse(bracketed: input)
            let link = try DigitalLink(elementString: es)
            print("OK\t\(link.uri())")
        } catch { print("ERR\t\(error)") }
    }
}
