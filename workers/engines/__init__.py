"""Model backends behind one small protocol.

protocols.py   Translator, Summarizer, Engines: all the pipeline sees
runtime.py     which backend, device and precision Settings ask for
registry.py    backends by name (a new backend: one module and one line)
factory.py     build the engines once per process, with `auto`'s fallback
signature.py   what decides a result, without loading a model
seq2seq.py     translator and summarizer over any backend's generator
ctranslate2.py, transformers.py   the backends
loading.py     hub id / local directory -> model files, or the "model missing" message
"""
