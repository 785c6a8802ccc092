# Writes a C++ source holding every sql/NNNN_*.sql file, ordered by name (run at build time).
# Inputs: SQL_DIR, OUTPUT.
file(GLOB migration_files "${SQL_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT migration_files)
set(body "")
foreach(path IN LISTS migration_files)
  get_filename_component(name "${path}" NAME)
  string(SUBSTRING "${name}" 0 4 version)
  math(EXPR version "${version} + 0")
  file(READ "${path}" sql)
  string(APPEND body "    {${version}, \"${name}\", R\"tether_sql(${sql})tether_sql\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp" "#include \"controller/store/migrations.hpp\"\n\nnamespace tether::store {\n\nconst std::vector<Migration>& embedded_migrations() {\n  static const std::vector<Migration> migrations{\n${body}  };\n  return migrations;\n}\n\n}  // namespace tether::store\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
