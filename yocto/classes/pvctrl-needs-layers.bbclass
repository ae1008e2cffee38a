# Skip a recipe cleanly, with the reason bitbake prints, when a layer it needs to build is not in
# the build. The layer then still parses with poky alone, and "bitbake world" leaves these recipes
# out instead of failing on a missing provider (e.g. nodejs-native for the npm:// fetcher).
#
# One flag per collection name, the value says why (an empty value withdraws the need):
#   PVCTRL_NEEDS_LAYER[openembedded-layer] = "npm:// runs npm from nodejs-native"
python () {
    collections = (d.getVar('BBFILE_COLLECTIONS') or '').split()
    needs = d.getVarFlags('PVCTRL_NEEDS_LAYER') or {}
    for collection, why in sorted(needs.items()):
        if why and collection not in collections:
            raise bb.parse.SkipRecipe('needs layer %s (%s)' % (collection, why))
}
