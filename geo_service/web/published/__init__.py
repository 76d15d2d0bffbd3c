"""One module per published layer, their types (:mod:`.base`) and their list (:mod:`.registry`)."""
