"""What a screening *means*, in plain Python: no Django imports (a test walks every module).

The rule language, the question catalogue's types, answers and units, the interpretive engine
(explanations) and the compiled engine (verdicts), the FHIR-to-answers mapping and the report shape.
Django apps load this package's input from the database and render its output; nothing here points back.
"""
