import KramaaPrimitives
print("bench")
