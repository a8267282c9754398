from notenlp.ner.clusters import learn_clusters


def test_words_in_the_same_contexts_share_a_cluster():
    drugs, symptoms = ["aspirin", "heparin", "warfarin"], ["fever", "cough", "rash"]
    sentences = []
    for _ in range(5):
        sentences += [["given", d, "daily"] for d in drugs] + [["has", s, "today"] for s in symptoms]
    clusters = learn_clusters(sentences, min_count=3, contexts=10, dims=8, sizes=(5,))
    assert len({clusters[d][0] for d in drugs}) == 1
    assert len({clusters[s][0] for s in symptoms}) == 1
    assert clusters["aspirin"] != clusters["fever"]
