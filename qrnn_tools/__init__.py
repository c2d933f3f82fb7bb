"""qrnn_tools: tools beside the study: the benchmark (:mod:`.bench`) and the built book's browser
check (:mod:`.book_check`)."""
